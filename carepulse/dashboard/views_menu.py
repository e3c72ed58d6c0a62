"""The navbar's saved views: a menu of named links and a dialog that saves the current page under a name.

Thin callbacks over :mod:`carepulse.dashboard.saved_views` (which checks and stores); the menu is drawn
from the warehouse on every page change and after a save.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html

from carepulse.dashboard import ids, saved_views, state
from carepulse.dashboard.filters import BadQuery
from carepulse.dashboard.i18n import _


def navbar_items() -> list[Any]:
    return [
        dbc.Nav(dbc.DropdownMenu(label=_("Saved views"), id=ids.VIEWS_MENU, nav=True, align_end=True,
                                 children=menu_items(())), navbar=True, className="me-2"),
        dbc.Button(_("Save view"), id=ids.VIEWS_SAVE_OPEN, size="sm", color="secondary", outline=True,
                   className="me-2 text-light"),
        dbc.Modal([
            dbc.ModalHeader(dbc.ModalTitle(_("Save this view"))),
            dbc.ModalBody([
                dbc.Label(_("Name of the view"), html_for=ids.VIEWS_SAVE_NAME),
                dbc.Input(id=ids.VIEWS_SAVE_NAME, maxlength=saved_views.MAX_NAME_CHARS, debounce=False),
                html.Div(_("Saves this page with its filters, for everyone using this warehouse."),
                         className="small text-muted mt-1"),
                html.Div(id=ids.VIEWS_SAVE_MESSAGE, className="small mt-2"),
            ]),
            dbc.ModalFooter(dbc.Button(_("Save"), id=ids.VIEWS_SAVE_CONFIRM, color="primary")),
        ], id=ids.VIEWS_SAVE_DIALOG, is_open=False),
        dcc.Store(id=ids.VIEWS_SAVED),
    ]


def menu_items(views: tuple[saved_views.SavedView, ...]) -> list[Any]:
    """One link per saved view (its name as text); a disabled line when there is none."""
    if not views:
        return [dbc.DropdownMenuItem(_("No saved views yet"), disabled=True)]
    return [dbc.DropdownMenuItem(v.name, href=v.href, external_link=True, className="cp-saved-view")
            for v in views]


@dash.callback(Output(ids.VIEWS_MENU, "children"), Input(ids.URL, "pathname"), Input(ids.VIEWS_SAVED, "data"))
def show_views(_pathname: str | None, _saved: Any) -> list[Any]:
    if not state.warehouse_exists() or state.warehouse_problem() is not None:
        return menu_items(())
    return menu_items(state.load(saved_views.list_views))


@dash.callback(Output(ids.VIEWS_SAVE_DIALOG, "is_open"), Output(ids.VIEWS_SAVE_MESSAGE, "children"),
               Input(ids.VIEWS_SAVE_OPEN, "n_clicks"), prevent_initial_call=True)
def open_dialog(_clicks: int | None) -> tuple[bool, str]:
    return True, ""


@dash.callback(
    Output(ids.VIEWS_SAVE_MESSAGE, "children", allow_duplicate=True),
    Output(ids.VIEWS_SAVED, "data"),
    Output(ids.VIEWS_SAVE_DIALOG, "is_open", allow_duplicate=True),
    Input(ids.VIEWS_SAVE_CONFIRM, "n_clicks"),
    Input(ids.VIEWS_SAVE_NAME, "n_submit"),
    State(ids.VIEWS_SAVE_NAME, "value"),
    State(ids.URL, "pathname"),
    State(ids.URL, "search"),
    prevent_initial_call=True,
)
def save(_clicks: int | None, _submit: int | None, name: str | None, pathname: str | None,
         search: str | None) -> tuple[Any, Any, bool]:
    """Check and store the view; the dialog stays open with the reason when it cannot be saved."""
    try:
        view = saved_views.checked(name, pathname, search)
    except BadQuery as exc:
        return dbc.Alert(str(exc), color="warning", className="py-1 px-2 mb-0"), dash.no_update, True
    saved_views.save_view(state.current().path, view)
    return _("Saved “{name}”.").format(name=view.name), view.href, False
