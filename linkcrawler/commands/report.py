"""`linkcrawler report`: one self-contained HTML file with a run's figures, charts and results."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from linkcrawler.commands import open_db
from linkcrawler.enums import ExitStatus
from linkcrawler.errors import UsageError

NAME = "report"
ORDER = 70
HELP = "write a self-contained HTML report of a run, with charts"
DESCRIPTION = """\
Write one HTML file that needs nothing else (no network, no other files): counts by status
and reason, charts (status, reasons, follow/nofollow/sponsored/ugc, positions, top referring
domains, live/lost/unverified over the run history), the changes since the previous completed
run, and a sortable, filterable table of the results. Large runs show the most important
rows (lost first, then unverified, then changed), at most --max-rows.

Everything taken from crawled pages is escaped; the page allows no script but its own."""
EXAMPLE = "linkcrawler report -o report.html\nlinkcrawler report --run 12 -o run12.html"


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return int(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", default="latest", metavar="ID|latest", help="which run (default latest)")
    parser.add_argument("-o", "--output", required=True, metavar="FILE.html", help="where to write the report")
    parser.add_argument("--max-rows", type=_positive_int, default=5000, metavar="N",
                        help="at most N rows in the results table (default %(default)s)")


def run(args: argparse.Namespace) -> ExitStatus:
    from linkcrawler.commands.export import resolve_run_id
    from linkcrawler.report import database_label, gather_report, write_report

    target = Path(args.output)
    if target.is_dir():
        raise UsageError(f"{target} is a directory; give a file name such as {target / 'report.html'}")
    if not target.parent.is_dir():
        raise UsageError(f"the folder {target.parent} does not exist")
    database = open_db(args)
    with database.sessions() as session:
        run_id = resolve_run_id(session, args.run)
        data, rows = gather_report(session, run_id, database=database_label(database.display_url),
                                   max_rows=args.max_rows)
        # Written beside the destination and renamed: a failed report never leaves half a file.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".report-", suffix=".part")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", errors="replace", newline="\n") as out:
                written = write_report(data, rows, out)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    capped = f" (table capped at {written} of {data.total})" if written < data.total else ""
    print(f"report of run {run_id}: {data.total} results{capped} -> {target}", file=sys.stderr)
    return ExitStatus.OK
