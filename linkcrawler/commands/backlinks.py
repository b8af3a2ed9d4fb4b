"""`linkcrawler backlinks`: the expected backlinks, their expectations and latest status."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from linkcrawler.enums import ExitStatus

if TYPE_CHECKING:
    from linkcrawler.backlinks import BacklinkView

NAME = "backlinks"
ORDER = 20
HELP = "list the expected backlinks with their expectations and latest status"
DESCRIPTION = """\
List the expected backlinks with their expectations (anchor, rel, expiry), tags, the tools
that reported them and the status of their latest verification (null/blank when never
checked). text is an aligned table; jsonl and csv stream, for any number of backlinks.
"""
EXAMPLE = "linkcrawler backlinks --tag client-a --format csv > backlinks.csv"

COLUMNS = (
    "backlink_id", "source_url", "target", "target_kind", "expected_anchor", "expected_rel",
    "expires", "notes", "tags", "sources", "status", "reason", "checked_at", "run_id",
)
_TEXT_COLUMNS = (
    ("ID", "backlink_id"), ("SOURCE", "source_url"), ("TARGET", "target"),
    ("ANCHOR", "expected_anchor"), ("REL", "expected_rel"), ("EXPIRES", "expires"),
    ("TAGS", "tags"), ("STATUS", "status"), ("REASON", "reason"), ("CHECKED", "checked_at"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tag", metavar="T", help="only backlinks with this tag")
    parser.add_argument("--format", choices=("text", "jsonl", "csv"), default="text")


def record(view: BacklinkView) -> dict[str, Any]:
    """One backlink as the jsonl/csv record (None where never checked)."""
    return {
        "backlink_id": view.id,
        "source_url": view.source_url,
        "target": view.target,
        "target_kind": view.target_kind,
        "expected_anchor": view.expected_anchor,
        "expected_rel": view.expected_rel,
        "expires": view.expires.isoformat() if view.expires else None,
        "notes": view.notes,
        "tags": list(view.tags),
        "sources": list(view.sources),
        "status": view.status,
        "reason": view.reason,
        "checked_at": view.checked_at.isoformat() + "Z" if view.checked_at else None,
        "run_id": view.run_id,
    }


def run(args: argparse.Namespace) -> ExitStatus:
    from linkcrawler.backlinks import iter_backlinks
    from linkcrawler.commands import open_db

    db = open_db(args)
    out = sys.stdout
    try:
        with db.sessions() as session:
            views = iter_backlinks(session, tag=args.tag)
            if args.format == "jsonl":
                for view in views:
                    out.write(json.dumps(record(view), ensure_ascii=False) + "\n")
            elif args.format == "csv":
                from linkcrawler.csvsafe import writer

                w = writer(out)
                w.writerow(COLUMNS)
                for view in views:
                    rec = record(view)
                    rec["tags"] = ";".join(view.tags)
                    rec["sources"] = ";".join(view.sources)
                    w.writerow(rec[c] for c in COLUMNS)
            else:
                _write_table(out, (record(v) for v in views))
    finally:
        db.engine.dispose()
    return ExitStatus.OK


def _write_table(out: Any, records: Iterable[dict[str, Any]]) -> None:
    rows = []
    for rec in records:
        rec["tags"] = ",".join(rec["tags"])
        rows.append([_text(rec[key]) for _, key in _TEXT_COLUMNS])
    if not rows:
        print("no backlinks (add some with: linkcrawler import FILE)", file=sys.stderr)
        return
    header = [title for title, _ in _TEXT_COLUMNS]
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) for i in range(len(header))]
    for line in (header, *rows):
        out.write("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() + "\n")
    print(f"{len(rows)} backlink{'s' if len(rows) != 1 else ''}", file=sys.stderr)


def _text(value: Any) -> str:
    if value is None or value == "":
        return "-"
    # A control character in a URL or anchor must not break the table (or the terminal).
    return "".join(c if c.isprintable() else "?" for c in str(value))
