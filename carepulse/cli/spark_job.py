"""The ``spark-submit`` entry point: carepulse's lake commands as a Spark application.

A cluster runs Python applications as files handed to ``spark-submit``, which starts the driver with
the master, memory and ``--conf`` it was given; this file is that application. Its arguments are the
carepulse command line of a lake command, with the engine fixed to Spark::

    spark-submit --master yarn --deploy-mode client "$(carepulse lake job)" \\
        lake ingest twcs s3a://bucket/raw/2026-12-04.csv --lake s3a://bucket/lake
    spark-submit --master yarn "$(carepulse lake job)" metrics --lake s3a://bucket/lake --by account

(``carepulse lake job`` prints this file's path.) Under ``spark-submit`` the session factory
(``engines.spark.session``) sees the launcher's gateway and keeps its settings instead of its own local
defaults. Any other command is refused: it would not run on the cluster.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

ALLOWED = (("lake", "ingest"), ("metrics",))


def arguments(argv: Sequence[str]) -> list[str] | None:
    """The command line for :func:`carepulse.cli.main` with ``--engine spark``, or None when not a lake command."""
    args = list(argv)
    if not any(tuple(args[: len(prefix)]) == prefix for prefix in ALLOWED):
        return None
    if args[0] == "metrics" and "--lake" not in args:
        return None
    if "--engine" in args:
        at = args.index("--engine")
        args[at: at + 2] = []
    return [*args, "--engine", "spark"]


def main(argv: Sequence[str] | None = None) -> int:
    from carepulse.cli import main as cli_main

    args = arguments(sys.argv[1:] if argv is None else argv)
    if args is None:
        print("error: a spark-submit job runs 'lake ingest SOURCE FILE... --lake DIR' or "
              "'metrics --lake DIR [options]'", file=sys.stderr)
        return 2
    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
