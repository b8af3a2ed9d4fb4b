"""`linkcrawler export`: the results of a run, one row per backlink (DESIGN §5)."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from linkcrawler.commands import open_db
from linkcrawler.enums import ExitStatus
from linkcrawler.errors import UsageError

NAME = "export"
ORDER = 30
HELP = "write the results of a run (JSON lines, CSV or JSON)"
DESCRIPTION = """\
Write one row per backlink of a run, in the schema of DESIGN §5: status, reason, follow,
indexable, redirects, every link to the target with rel, position, anchor and context.
CSV cells that a spreadsheet would run as a formula are prefixed with '."""
EXAMPLE = "linkcrawler export --run latest --format csv -o results.csv"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", default="latest", metavar="ID|latest", help="which run (default latest)")
    parser.add_argument("--format", choices=["jsonl", "csv", "json"], default="jsonl")
    parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")


def resolve_run_id(session, text: str) -> int:  # noqa: ANN001
    from linkcrawler.db import Run
    from linkcrawler.runs import latest_run

    if text == "latest":
        run = latest_run(session)
        if run is None:
            raise UsageError("there are no runs yet; run `linkcrawler verify` first")
        return run.id
    if not text.isdigit() or session.get(Run, int(text)) is None:
        raise UsageError(f"there is no run {text!r}")
    return int(text)


def run(args: argparse.Namespace) -> ExitStatus:
    from linkcrawler.export import iter_records, write_records

    database = open_db(args)
    with database.sessions() as session:
        run_id = resolve_run_id(session, args.run)
        records = iter_records(session, run_id)
        if not args.output:
            count = write_records(records, args.format, sys.stdout)
        else:
            # Written beside the destination and renamed: a failed export never leaves half a file.
            target = Path(args.output)
            fd, tmp = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".", suffix=".part")
            try:
                with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
                    count = write_records(records, args.format, out)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
    print(f"exported {count} results of run {run_id}", file=sys.stderr)
    return ExitStatus.OK
