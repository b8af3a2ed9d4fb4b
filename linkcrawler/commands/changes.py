"""`linkcrawler changes`: change events between two runs (DESIGN §6)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from linkcrawler.commands import open_db
from linkcrawler.commands._crawl_options import _positive_int as positive_int
from linkcrawler.enums import ExitStatus

NAME = "changes"
ORDER = 40
HELP = "what was lost, recovered, new or changed between two runs"
DESCRIPTION = """\
List one event per backlink whose state differs between two runs (default: the last two
completed runs): lost, recovered, new (first run that saw the link live) and changed, with
the field (follow, rel, position, anchor_text, indexable, target_url, final_url, hidden) and
its value before and after.

An unverified result (blocked, timeout, robots...) never makes a link lost or recovered: the
last conclusive state carries over. With --confirm N a link is reported lost only once it has
been conclusively missing in N runs in a row (unverified runs in between neither count nor
break the series).

Exit status: 0 done (lost links are findings, not failures), 1 with --fail-on when there is a
lost link (lost) or any event (changes), 2 bad usage or unknown run ids."""
EXAMPLE = "linkcrawler changes --format jsonl\nlinkcrawler changes --from 12 --to 14 --confirm 2 --fail-on lost"

FORMATS = ("text", "jsonl", "csv")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="from_run", type=positive_int, metavar="ID",
                        help="the earlier run (default: the completed run before --to)")
    parser.add_argument("--to", dest="to_run", type=positive_int, metavar="ID",
                        help="the later run (default: the latest completed run)")
    parser.add_argument("--confirm", type=positive_int, default=1, metavar="N",
                        help="report a link lost only after N consecutive conclusive misses (default 1)")
    parser.add_argument("--format", choices=FORMATS, default="text")
    parser.add_argument("--fail-on", choices=["lost", "changes"],
                        help="exit 1 if a link was lost (lost) or anything changed (changes)")


def run(args: argparse.Namespace) -> ExitStatus:
    from linkcrawler.changes import compute_changes, resolve_run_pair

    database = open_db(args)
    with database.sessions() as session:
        from_run, to_run = resolve_run_pair(session, args.from_run, args.to_run)
        for r in (from_run, to_run):
            if r.state != "completed":
                print(f"linkcrawler changes: note: run {r.id} is {r.state}; backlinks it did not "
                      "check keep their earlier state", file=sys.stderr)
        counts = write_events(compute_changes(session, from_run.id, to_run.id, confirm=args.confirm),
                              args.format, sys.stdout, header=(from_run, to_run, args.confirm))
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    print(f"changes from run {from_run.id} to run {to_run.id}: {summary}", file=sys.stderr)
    if args.fail_on == "lost" and counts["lost"]:
        return ExitStatus.FINDINGS
    if args.fail_on == "changes" and any(counts.values()):
        return ExitStatus.FINDINGS
    return ExitStatus.OK


def write_events(events: Any, fmt: str, out: TextIO, *, header: Any = None) -> dict[str, int]:
    """Write events as text, JSON lines or CSV; returns the count per kind."""
    from linkcrawler.changes import EVENT_KEYS, ChangeKind

    counts = {kind.value: 0 for kind in ChangeKind}
    writer = None
    if fmt == "csv":
        from linkcrawler import csvsafe

        writer = csvsafe.writer(out)
        writer.writerow(EVENT_KEYS)
    elif fmt == "text" and header is not None:
        from_run, to_run, confirm = header
        out.write(f"changes from run {from_run.id} ({_when(from_run)}) to run {to_run.id} "
                  f"({_when(to_run)})" + (f", confirm {confirm}" if confirm > 1 else "") + "\n")
    for event in events:
        counts[event.kind.value] += 1
        if fmt == "jsonl":
            out.write(json.dumps(event.as_dict(), ensure_ascii=False) + "\n")
        elif writer is not None:
            record = event.as_dict()
            writer.writerow([_csv_value(record[key]) for key in EVENT_KEYS])
        else:
            out.write(text_line(event) + "\n")
    if fmt == "text":
        total = sum(counts.values())
        out.write(("no changes" if not total else
                   ", ".join(f"{n} {kind}" for kind, n in counts.items())) + "\n")
    out.flush()
    return counts


def text_line(event: Any) -> str:
    what = f"{event.kind.value:<9} #{event.backlink_id} {event.source_url} -> {event.target}"
    if event.field is not None:
        return f"{what}: {event.field.value} {_show(event.before)} => {_show(event.after)}"
    return f"{what} ({_show(event.before)} => {_show(event.after)})"


def _show(value: Any) -> str:
    # JSON spelling keeps null/true/"text" apart and escapes control characters from the web.
    return json.dumps(value, ensure_ascii=False)


def _csv_value(value: Any) -> Any:
    return "" if value is None else value


def _when(run: Any) -> str:
    return run.started_at.strftime("%Y-%m-%d %H:%M") if run.started_at else "?"
