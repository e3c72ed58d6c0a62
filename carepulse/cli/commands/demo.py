"""``carepulse demo``: the main job on embedded data, from nothing to a dashboard in one command.

It simulates a seeded six-month pilot of a German telco's Twitter support, writes the raw files a
real installation would have (API v2 JSONL pages and a German CRM export with its mapping) into
``data/demo/``, loads them through the same code as ``carepulse ingest``, prints the headline
figures and serves the dashboard.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

from carepulse.cli import COMMANDS
from carepulse.cli.commands.ingest import print_report

if TYPE_CHECKING:
    from carepulse.core.config import Settings

DEMO_DIR = Path("data") / "demo"
DEMO_DB = DEMO_DIR / "carepulse-demo.duckdb"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("demo", help=COMMANDS["demo"])
    parser.add_argument("--seed", type=int, default=7, help="simulation seed (same seed, same data)")
    parser.add_argument("--db", type=Path, default=None, help=f"demo warehouse (default {DEMO_DB})")
    parser.add_argument("--no-serve", action="store_true", help="load and print the figures, do not serve")
    parser.add_argument("--host", default="127.0.0.1", help="interface to serve on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8050)
    parser.set_defaults(func=run)


def _is_demo_warehouse(path: Path) -> bool:
    import duckdb  # here, not at the top: see run (start-up time)

    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return False
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'demo_seed'").fetchone()
        return row is not None
    except duckdb.Error:
        return False
    finally:
        con.close()


DEMO_FILES = ("tweets.jsonl", "crm_export.csv", "crm_mapping.toml")
MANIFEST = ".carepulse-demo.json"


def _digest(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _check_overwrite(out_dir: Path) -> None:
    """Refuse to replace an input file the demo did not write: ``--db DIR/x.duckdb`` puts the demo's raw
    files into DIR, where a user's own ``tweets.jsonl`` may live. The demo records what it wrote (name and
    SHA-256) in a manifest; a file that is not in it, or was changed since, is not the demo's to replace."""
    from carepulse.core.errors import DataError  # here, not at the top: see run (start-up time)

    try:
        written = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        written = {}
    for name in DEMO_FILES:
        path = out_dir / name
        if path.exists() and (not isinstance(written, dict) or written.get(name) != _digest(path)):
            raise DataError(f"{path} exists and was not written by carepulse demo: refusing to overwrite it "
                            "(pass --db in another directory)")


def _write_manifest(out_dir: Path) -> None:
    digests = {name: _digest(out_dir / name) for name in DEMO_FILES if (out_dir / name).exists()}
    (out_dir / MANIFEST).write_text(json.dumps(digests, indent=1), encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    # Imported when the command runs, not with the module: --help and argument errors do without DuckDB
    # and the loader (start-up time).
    from carepulse.core.config import load_settings
    from carepulse.core.errors import DataError
    from carepulse.etl.loader import ingest_crm, ingest_tweets
    from carepulse.warehouse import Warehouse

    db = args.db or DEMO_DB
    settings = load_settings(Path(args.config) if args.config else None, db=db)
    if db.exists() and not _is_demo_warehouse(db):
        raise DataError(f"{db} holds a warehouse that is not a demo; pass another --db for the demo")
    out_dir = db.parent if args.db else DEMO_DIR
    _check_overwrite(out_dir)
    db.unlink(missing_ok=True)

    from carepulse.demo.generator import generate_demo

    started = time.perf_counter()
    files = generate_demo(out_dir, seed=args.seed)
    _write_manifest(out_dir)
    print(f"simulated pilot (seed {args.seed}) written to {out_dir}/ in {time.perf_counter() - started:.1f} s")
    warehouse = Warehouse(db)
    print_report(ingest_tweets(warehouse, "jsonl", [files.tweets_jsonl], settings, accounts=files.accounts), db)
    print_report(ingest_crm(warehouse, [files.crm_csv], files.crm_mapping, settings), db)
    with warehouse.writer() as con:
        con.execute("INSERT OR REPLACE INTO meta VALUES ('demo_seed', ?)", [str(args.seed)])
    _print_headline(db, settings)
    if args.no_serve:
        return 0
    try:
        from carepulse.dashboard.app import serve
    except ModuleNotFoundError:
        print("the dashboard is not part of this build; figures above are the headline")
        return 0
    serve(db=db, host=args.host, port=args.port, settings=settings)
    return 0


HEADLINE = ("threads", "response_rate", "first_response_median_s", "first_response_km_median_s", "sla_met_share",
            "resolution_rate", "csat_diff_twitter_hotline", "resolution_diff_twitter_hotline",
            "first_response_trend_s_per_week", "threads_forecast_4w", "pilot_net_benefit_eur",
            "deflection_breakeven_share", "pilot_payback_projected_month", "hotline_itsa_volume_change",
            "staffing_fte_x2")


def _print_headline(db: Path, settings: Settings) -> None:
    """The answers management asks for first, in sentences, from the metrics engine."""
    from carepulse.metrics import engine
    from carepulse.metrics.pilot_view import pilot_view
    from carepulse.metrics.stats import GLOSSARY
    from carepulse.warehouse import Warehouse

    reader = Warehouse(db).reader()
    result = engine.headline([*HEADLINE, "hotline_variable_cost_per_case"], db=reader, settings=settings)
    total = result["total"]
    print(f"\nheadline, as of {result['as_of']}:")
    print(f"  {total['threads']:,} Twitter threads, {total['response_rate']:.1%} answered; first response median "
          f"{total['first_response_median_s'] / 60:.0f} min, {total['first_response_km_median_s'] / 60:.0f} min "
          f"counting the threads still waiting (Kaplan-Meier median); SLA {settings.sla_minutes:.0f} min met for "
          f"{total['sla_met_share']:.1%}")
    view = pilot_view(db=reader, settings=settings)
    twitter, hotline = view.pilot.twitter, view.pilot.hotline
    if twitter.cost_per_case is not None and hotline.cost_per_case is not None and hotline.months:
        months = sorted(hotline.months)
        print(f"  cost per case over the pilot months {months[0]} to {months[-1]}: Twitter "
              f"{twitter.cost_per_case:.2f} EUR ({twitter.cases:,} cases), {settings.hotline_channel} hotline "
              f"{hotline.cost_per_case:.2f} EUR ({hotline.cases:,} cases); a deflected case saves the hotline's "
              f"variable {view.pilot.hotline_cpc or 0:.2f} EUR (docs/economics.md)")
    for sentence in result["verdicts"]:
        print(f"  - {sentence}")
    print("  the words used:")
    for term, words in GLOSSARY:
        print(f"    {term}: {words}")


