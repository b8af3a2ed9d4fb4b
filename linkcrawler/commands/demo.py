"""`linkcrawler demo`: the whole job on a bundled web served on loopback; no network needed."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from linkcrawler.enums import ExitStatus

NAME = "demo"
ORDER = 90
HELP = "run import, verify and export against a bundled demo web on loopback (no network)"
DESCRIPTION = """\
Start a small web of planted pages on 127.0.0.1 (several hostnames through --resolve),
import its backlinks, verify them, print the summary, and write the export (and the HTML
report) to the output folder. Each planted page is built to produce one status/reason, and
the demo checks that every backlink got the result it should."""
EXAMPLE = "linkcrawler demo --out data/demo"

DEFAULT_DB = "sqlite:///data/demo.db"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="data/demo", metavar="DIR",
                        help="where the backlinks CSV, export and report go (default %(default)s)")
    parser.add_argument("--delay", type=float, default=0.05, metavar="SECONDS",
                        help="per-site gap; small because the demo web is local (default %(default)s)")


def run(args: argparse.Namespace) -> ExitStatus:
    from linkcrawler.cli import main
    from linkcrawler.demo_web import BACKLINKS, DemoWeb

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    db = args.db or DEFAULT_DB
    if not args.db:
        # The demo web listens on a new port each time, so its URLs differ: start afresh.
        for suffix in ("", "-wal", "-shm"):
            Path(f"data/demo.db{suffix}").unlink(missing_ok=True)
    with DemoWeb() as web:
        csv_path = out / "backlinks.csv"
        with csv_path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["source_url", "target_url", "tags", "notes"])
            for source, target, status, reason in BACKLINKS:
                w.writerow([web.url(source), web.url(target), "demo", f"expect {status}/{reason}"])
        print(f"demo web on 127.0.0.1:{web.port}; database {db}", file=sys.stderr)
        status = main(["import", str(csv_path), "--db", db])
        if status != ExitStatus.OK:
            return ExitStatus(status)
        crawl = ["--db", db, "--allow-private", "--delay", str(args.delay), "--recheck-delay", "0.2",
                 "--timeout", "10", "--no-progress"]
        for entry in web.resolve_entries():
            crawl += ["--resolve", entry]
        status = main(["verify", *crawl])
    if status not in (ExitStatus.OK, ExitStatus.FINDINGS):
        return ExitStatus(status)
    export_path = out / "export.jsonl"
    main(["export", "--db", db, "--format", "jsonl", "-o", str(export_path)])
    report_path = out / "report.html"
    import importlib.util

    if importlib.util.find_spec("linkcrawler.commands.report") is not None:
        if main(["report", "--db", db, "-o", str(report_path)]) == ExitStatus.OK:
            print(f"report: {report_path}", file=sys.stderr)
    return _check(export_path, web)


def _check(export_path: Path, web: object) -> ExitStatus:
    """Compare every result with what its planted page was built to produce."""
    import json

    from linkcrawler.demo_web import BACKLINKS

    expected = {web.url(source): (status, reason) for source, _t, status, reason in BACKLINKS}  # type: ignore[attr-defined]
    wrong = []
    with export_path.open(encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            want = expected.get(record["source_url"])
            got = (record["status"], record["reason"])
            if want is not None and got != want:
                wrong.append(f"{record['source_url']}: expected {want[0]}/{want[1]}, got {got[0]}/{got[1]}")
    print(f"export: {export_path}", file=sys.stderr)
    if wrong:
        print("demo results that differ from the planted truth:\n  " + "\n  ".join(wrong), file=sys.stderr)
        return ExitStatus.RUN_FAILED
    print(f"all {len(expected)} demo backlinks got their planted result", file=sys.stderr)
    return ExitStatus.OK
