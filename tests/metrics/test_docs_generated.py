"""docs/metrics.md is generated from the registry (``python -m carepulse.metrics.docs``) and is current."""

from __future__ import annotations

import pytest

from carepulse.metrics import docs
from carepulse.metrics.registry import list_metrics


def test_the_committed_page_is_the_generated_text() -> None:
    assert docs.TARGET.read_text(encoding="utf-8") == docs.render(), (
        "docs/metrics.md is stale: run python -m carepulse.metrics.docs")


def test_every_metric_entry_carries_its_registry_definition() -> None:
    page = docs.render()
    for m in list_metrics():
        assert f"### `{m.name}`\n**{m.label}.** {m.description}\n" in page


def test_a_metric_without_a_slot_is_listed_under_more_metrics_and_an_invented_slot_is_refused() -> None:
    template = docs.TEMPLATE.read_text(encoding="utf-8")
    page = docs.render(template.replace("{{metric:threads}}\n", ""))
    assert page.index("### `threads`") > page.index("## More metrics")
    with pytest.raises(ValueError, match="no_such_metric"):
        docs.render(template + "\n{{metric:no_such_metric}}\n")
