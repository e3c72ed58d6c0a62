"""``carepulse demo --no-serve``: the main job end to end through the real ingest path."""

from __future__ import annotations

from pathlib import Path

import pytest

from carepulse.cli import main
from carepulse.demo.generator import generate_demo
from carepulse.warehouse import Warehouse
from tests.twcs_helpers import at, row, write_twcs


def test_demo_generates_loads_and_prints_the_headline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "demo" / "demo.duckdb"
    assert main(["demo", "--no-serve", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    planted = generate_demo(tmp_path / "planted").defects  # the same seed writes the same files
    planted_in = {name: sum(d.file == name for d in planted) for name in ("tweets.jsonl", "crm_export.csv")}
    assert 5 <= planted_in["crm_export.csv"] <= 8 and 1 <= planted_in["tweets.jsonl"] <= 2
    for name, count in planted_in.items():
        [report] = [line for line in out.splitlines() if f"{name}: read " in line]
        assert report.endswith(f"+ quarantined {count}")
    assert "CRM links: conversation" in out
    assert "Among customers who answered the survey (" in out and "Twitter cases scored" in out
    # The headline compares costs over the same pilot months as the Pilot page's card, and glosses its words.
    from carepulse.core.config import Settings
    from carepulse.metrics.pilot_view import pilot_view

    view = pilot_view(db=Warehouse(db).reader(), settings=Settings())
    assert (f"Twitter {view.pilot.twitter.cost_per_case:.2f} EUR ({view.pilot.twitter.cases:,} cases), phone hotline "
            f"{view.pilot.hotline.cost_per_case:.2f} EUR ({view.pilot.hotline.cases:,} cases)") in out
    assert f"Twitter pilot net benefit: {view.pilot.net_eur:+,.0f} EUR over the pilot months" in out
    assert "the words used:" in out and "Holm-adjusted: " in out and "95% CI: " in out
    con = Warehouse(db).reader().connection()
    accounts = {r[0] for r in con.execute("SELECT handle FROM accounts").fetchall()}
    assert accounts == {"nordfunk_hilft", "nordfunk_b2b"}
    threads, unanswered = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE status = 'unanswered') FROM threads").fetchall()[0]
    assert threads > 3000 and 0 < unanswered < threads * 0.2
    channels = dict(con.execute("SELECT channel, count(*) FROM crm_cases GROUP BY channel").fetchall())
    assert set(channels) == {"twitter", "phone", "email", "chat"}
    linked = con.execute("SELECT count(*) FROM crm_cases WHERE channel = 'twitter' AND link_method <> 'none'")
    assert linked.fetchall()[0][0] > 0.9 * channels["twitter"]
    runs = con.execute("SELECT sum(records_read) - sum(loaded + duplicate + quarantined) FROM ingest_runs")
    assert runs.fetchall()[0][0] == 0
    kept = con.execute("SELECT file, line, reason FROM quarantine ORDER BY file, line").fetchall()
    assert len(kept) == len(planted) == con.execute("SELECT sum(quarantined) FROM ingest_runs").fetchall()[0][0]
    assert {(Path(file).name, line) for file, line, _ in kept} == {(d.file, d.line) for d in planted}
    assert all(reason and reason.strip() for _, _, reason in kept)

    assert main(["demo", "--no-serve", "--db", str(db)]) == 0  # a demo warehouse is rebuilt, not appended to
    again = Warehouse(db).reader().connection().execute("SELECT count(*) FROM threads").fetchall()[0][0]
    assert again == threads


def test_demo_refuses_to_replace_a_real_warehouse(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "real.duckdb"
    assert main(["ingest", "twcs", str(write_twcs(tmp_path / "f.csv", [row(1, "c1", False, at("10:00"), "hi")])),
                 "--db", str(db)]) == 0
    assert main(["demo", "--no-serve", "--db", str(db)]) == 2
    assert "not a demo" in capsys.readouterr().err
    assert Warehouse(db).reader().connection().execute("SELECT count(*) FROM tweets").fetchall() == [(1,)]


def test_demo_refuses_to_overwrite_input_files_it_did_not_write(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    mine = tmp_path / "tweets.jsonl"
    mine.write_text('{"data": []}\n', encoding="utf-8")
    assert main(["demo", "--no-serve", "--db", str(tmp_path / "x.duckdb")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "was not written by carepulse demo" in err and err.count("\n") == 1
    assert mine.read_text(encoding="utf-8") == '{"data": []}\n'
    assert not (tmp_path / "crm_export.csv").exists() and not (tmp_path / "x.duckdb").exists()
