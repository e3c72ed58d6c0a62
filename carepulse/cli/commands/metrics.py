"""``carepulse metrics``: the headline figures, per group, as a table, JSON or CSV.

Everything is computed by :mod:`carepulse.metrics.engine`; this module only parses arguments and formats.
"""

from __future__ import annotations

import argparse
import csv
import gc
import io
import json
import os
import sys
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from carepulse.cli import COMMANDS
from carepulse.core.spreadsheet import neutralise_text

BY_CHOICES = ("account", "agent", "team", "category", "channel", "day", "week", "month", "hour", "weekday")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "metrics", help=COMMANDS["metrics"],
        description="Headline figures from the warehouse (definitions: docs/metrics.md). "
                    "Medians, percentiles and a Kaplan-Meier median that counts unanswered threads; "
                    "95%% intervals and n; 'not enough data' below the configured minimum sample.",
    )
    p.add_argument("--db", type=Path, default=None, help="warehouse file (default from settings)")
    p.add_argument("--lake", type=Path, default=None, metavar="DIR",
                   help="read a lake (carepulse lake export) instead of the warehouse (docs/scale.md)")
    p.add_argument("--engine", choices=("duckdb", "spark"), default=None,
                   help="what runs the statements on --lake: duckdb (default) or spark (carepulse[spark])")
    p.add_argument("--from", dest="date_from", metavar="DATE", help="first day (YYYY-MM-DD, local time)")
    p.add_argument("--to", dest="date_to", metavar="DATE", help="last day, inclusive")
    p.add_argument("--account", metavar="HANDLE", help="only this brand account")
    p.add_argument("--channel", metavar="CHANNEL", help="only this channel (twitter, phone, email, ...)")
    p.add_argument("--team", help="only this CRM team")
    p.add_argument("--category", help="only this CRM category")
    p.add_argument("--agent", help="only this agent (as --by agent names them)")
    p.add_argument("--by", choices=BY_CHOICES, help="one group per value")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table")
    p.add_argument("--as-of", dest="as_of", metavar="TIMESTAMP",
                   help="look at the data as of this moment (default: the latest tweet)")
    p.add_argument("--metrics", metavar="NAMES", help="comma-separated metric names (see --list)")
    p.add_argument("--all", action="store_true", help="every metric, including text proxies and statistics")
    p.add_argument("--no-ci", dest="ci", action="store_false", help="leave out intervals and n")
    p.add_argument("--list", action="store_true", help="list the metrics and exit")
    p.add_argument("--explain", metavar="METRIC", help="show a metric's definition and SQL (with --lake DIR --engine "
                   "spark: the Spark SQL it runs there), then exit")
    p.set_defaults(func=run)


def _date(text: str | None, flag: str) -> date | None:
    if not text:
        return None
    from carepulse.core.config import FIRST_DAY, LAST_DAY  # here, not at the top: see run (start-up time)
    from carepulse.core.errors import ConfigError

    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"{flag}: expected a date like 2017-10-31, got {text!r}") from exc
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ConfigError(f"{flag}: {text} is outside {FIRST_DAY.year} to {LAST_DAY.year}")
    return day


def _attach_meanwhile(reader: Any) -> Callable[..., None]:
    """Open the warehouse snapshot in a thread while the metric modules import (DuckDB attaches
    without the GIL); the returned function waits for it and raises what it raised."""
    failure: list[BaseException] = []

    def attach() -> None:
        try:
            reader.connection().close()
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)

    worker = threading.Thread(target=attach, name="carepulse-attach", daemon=True)
    worker.start()

    def wait(quiet: bool = False) -> None:
        worker.join()
        if failure and not quiet:
            raise failure[0]

    return wait


def _lake(path: Path, engine: str | None) -> Any:
    """The engine reading a lake: the same statements, results and output as on the warehouse."""
    from carepulse.warehouse.engines import open_lake

    return open_lake(path, engine or "duckdb")


def run(args: argparse.Namespace) -> int:
    # Imported when the command runs, not with the module: its --help and argument errors do without them
    # (start-up time).
    from carepulse.core.config import load_settings
    from carepulse.core.errors import ConfigError

    if args.engine and args.lake is None:
        raise ConfigError("--engine needs --lake DIR (the warehouse file is always read by DuckDB)")
    if args.list:
        from carepulse.metrics import registry

        sys.stdout.write(list_text(registry.list_metrics()))
        return 0
    # A one-shot command on two cores: numpy's OpenBLAS need not start (and spin) a thread per core
    # for the few vector operations here, and the cyclic garbage collector need not walk every
    # object the imports create (they live until exit anyway); together about 0.05 s of CPU.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    gc.disable()
    try:
        from carepulse.warehouse import Warehouse

        settings = load_settings(Path(args.config) if args.config else None, db=args.db)
        # Arguments are checked before the snapshot is attached in a thread: an exit while DuckDB is
        # still attaching aborts the process instead of printing the one error line.
        days = _date(args.date_from, "--from"), _date(args.date_to, "--to")
        reader: Any = Warehouse(settings.db).reader() if args.lake is None else _lake(args.lake, args.engine)
        attached = _attach_meanwhile(reader)
        try:
            from carepulse.metrics import engine, registry
            from carepulse.metrics.context import Filters, parse_as_of

            filters = Filters(date_from=days[0], date_to=days[1], account=args.account, channel=args.channel,
                              team=args.team, category=args.category, agent=args.agent)
            as_of = parse_as_of(args.as_of, settings.timezone) if args.as_of else None
        except BaseException:
            attached(quiet=True)
            raise
    finally:
        gc.freeze()
        gc.enable()
    attached()
    if args.explain:
        translate: Callable[[str], str] | None = None
        if args.lake is not None and args.engine == "spark":
            from carepulse.warehouse.engines.spark_sql import spark_tree

            def translate(sql: str) -> str:  # as the engine runs it: translated and portability-checked
                return str(spark_tree(sql).sql(dialect="spark", pretty=True))
        sys.stdout.write(engine.explain(args.explain, args.by, filters, settings=settings, db=reader, as_of=as_of,
                                        translate=translate) + "\n")
        return 0
    names: list[str] | None = None
    if args.all:
        names = [m.name for m in registry.list_metrics()]
    elif args.metrics:
        names = [n.strip() for n in args.metrics.split(",") if n.strip()]
    engine.require_data(reader)
    result = engine.headline(names, args.by, filters, db=reader, settings=settings, as_of=as_of, ci=args.ci)
    if args.format == "json":
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    elif args.format == "csv":
        sys.stdout.write(csv_text(result))
    else:
        sys.stdout.write(table_text(result, registry.REGISTRY))
    return 0


# ---- formatting ----------------------------------------------------------------------------------

def format_value(value: Any, unit: str) -> str:
    """A value for people, by its unit's one formatter (:mod:`carepulse.metrics.units`, as on the dashboard)."""
    from carepulse.metrics import units

    return units.format_value(value, unit, "en")


def _interval(values: dict[str, Any], name: str, unit: str) -> str:
    low, high, n = values.get(f"{name}_ci_low"), values.get(f"{name}_ci_high"), values.get(f"{name}_n")
    parts = []
    if low is not None or high is not None:
        high_text = "open" if high is None and low is not None else format_value(high, unit)
        parts.append(f"95% interval {format_value(low, unit)} to {high_text}")
    if n is not None:
        parts.append(f"n = {n:,}")
    return f"({'; '.join(parts)})" if parts else ""


def _align(rows: list[list[str]], right_from: int = 1) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for r in rows:
        cells = [c.ljust(w) if i < right_from else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
    return lines


def table_text(result: dict[str, Any], registry: dict[str, Any]) -> str:
    total = result["total"]
    names = [n for n in registry if n in total]
    head = f"carepulse metrics as of {result['as_of']}"
    if result["filters"]:
        head += "  (" + ", ".join(f"{k} {v}" for k, v in result["filters"].items()) + ")"
    rows = [["metric", "value", ""]]
    for name in names:
        m = registry[name]
        rows.append([m.label, format_value(total[name], m.unit), _interval(total, name, m.unit)])
    out = [head, "", *_align(rows, right_from=1)]
    groups = result["groups"]
    if groups:
        shown = [n for n in names if registry[n].allows(result["by"])
                 and any(g.get(n) not in (None, 0) for g in groups.values())]
        grid = [[result["by"], *shown]]
        for key, values in groups.items():
            grid.append([key, *(format_value(values.get(n), registry[n].unit) for n in shown)])
        out += ["", f"by {result['by']} ({len(groups)} groups; columns are metric names, see --list)", *_align(grid)]
    if result.get("verdicts"):
        out += ["", "In words:", *(f"- {v}" for v in result["verdicts"])]
    if result.get("assumptions"):
        a = result["assumptions"]
        out += ["", "Cost assumptions (settings [cost]):"]
        for channel, c in a["channels"].items():
            out.append(f"- {channel}: {c['hourly_cost_eur']:.2f} EUR/agent hour, "
                       f"{c['fixed_monthly_eur']:,.0f} EUR fixed per month, "
                       f"{c['default_handled_minutes']:g} min per case without handled minutes")
        out.append(f"- Twitter threads without a CRM case: {a['minutes_per_brand_tweet']:g} min per brand tweet, "
                   f"+{a['minutes_per_dm_case']:g} min when handed to DM; hotline = {a['hotline_channel']}; "
                   f"pilot set-up {a['pilot_setup_eur']:,.0f} EUR from {a['pilot_start'] or 'the first Twitter month'}")
        out.append(f"- a deflected Twitter case saves the hotline's variable cost per case; deflection share "
                   f"{a['deflection_share']:.0%} (also shown at "
                   f"{', '.join(f'{v:.0%}' for v in a['deflection_sensitivity'])}); hotline fixed costs cut "
                   f"{a['hotline_fixed_avoided_monthly_eur']:,.0f} EUR a month (docs/economics.md)")
    return "\n".join(out) + "\n"


def _safe(value: Any) -> Any:
    """Spreadsheet-safe text (carepulse.core.spreadsheet: the one rule for every CSV carepulse writes)."""
    return neutralise_text(value)


def csv_text(result: dict[str, Any]) -> str:
    key = result["by"] or "group"
    columns = list(result["total"])
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([key, *columns])
    writer.writerow(["(total)", *(_safe(result["total"][c]) for c in columns)])
    for group, values in result["groups"].items():
        writer.writerow([_safe(group), *(_safe(values.get(c)) for c in columns)])
    return buf.getvalue()


def list_text(metrics: list[Any]) -> str:
    rows = [["name", "unit", "kind", "breakdowns", "default"]]
    for m in metrics:
        rows.append([m.name, m.unit, m.kind, ",".join(sorted(m.breakdowns)) or "-", "yes" if m.default else "--all"])
    lines = _align(rows, right_from=99)
    lines += ["", "Definitions: docs/metrics.md, or carepulse metrics --explain NAME"]
    return "\n".join(lines) + "\n"
