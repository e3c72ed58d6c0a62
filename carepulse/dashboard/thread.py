"""The thread view with its data: one thread's header, CRM cases and conversation, from metrics."""

from __future__ import annotations

from dash import html

from carepulse.dashboard import components, privacy, state
from carepulse.dashboard.i18n import _
from carepulse.metrics import data_views, views


def render(thread_id: str | None) -> html.Div:
    """The whole thread, or a sentence saying how to pick one."""
    if not thread_id:
        return html.Div(components.empty_state(_("Click a thread in the list to read its conversation here")))
    detail = privacy.masked_detail(state.load(data_views.thread_detail, thread_id))
    tweets = privacy.masked(state.load(views.thread_tweets, thread_id)) if detail else None
    cases = state.load(data_views.thread_cases, thread_id) if detail else None
    import pandas as pd

    settings = state.settings()
    return components.thread_view(detail, tweets if tweets is not None else pd.DataFrame(),
                                  cases if cases is not None else pd.DataFrame(), state.locale(),
                                  float(settings.sla_minutes) * 60.0)
