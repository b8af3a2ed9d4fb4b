"""`linkcrawler history`: one backlink's timeline across runs."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from linkcrawler.commands import open_db
from linkcrawler.commands._crawl_options import _positive_int as positive_int
from linkcrawler.enums import ExitStatus

NAME = "history"
ORDER = 45
HELP = "one backlink's status in every run, with its change events"
DESCRIPTION = """\
Show every run that checked one backlink: its status and reason, the state the change report
holds after that run (live, lost, or unknown before it was first seen live) and the events
`linkcrawler changes` reports for it between consecutive runs. Backlink ids are in
`linkcrawler backlinks` and in every export."""
EXAMPLE = "linkcrawler history 42\nlinkcrawler history 42 --format jsonl --confirm 2"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("backlink_id", type=positive_int, metavar="BACKLINK_ID")
    parser.add_argument("--format", choices=["text", "jsonl"], default="text")
    parser.add_argument("--confirm", type=positive_int, default=1, metavar="N",
                        help="as for `changes`: lost only after N consecutive misses (default 1)")


def run(args: argparse.Namespace) -> ExitStatus:
    from linkcrawler.changes import backlink_timeline

    database = open_db(args)
    with database.sessions() as session:
        timeline = backlink_timeline(session, args.backlink_id, confirm=args.confirm)
    out = sys.stdout
    if args.format == "jsonl":
        for entry in timeline.entries:
            out.write(json.dumps(entry_record(timeline, entry), ensure_ascii=False) + "\n")
        return ExitStatus.OK
    out.write(f"backlink #{timeline.backlink_id} {timeline.source_url} -> {timeline.target}\n")
    if not timeline.entries:
        out.write("not checked by any run yet\n")
        return ExitStatus.OK
    out.write(f"{'run':>6}  {'started':<16}  {'run state':<11}  {'status':<10}  {'reason':<18}  state\n")
    for entry in timeline.entries:
        out.write(f"{entry.run_id:>6}  {_when(entry.started_at):<16}  {entry.run_state:<11}  "
                  f"{entry.status or '-':<10}  {entry.reason or '-':<18}  {entry.state.name.lower()}\n")
        for event in entry.events:
            out.write(f"{'':>8}{_event_text(event)}\n")
    return ExitStatus.OK


def entry_record(timeline: Any, entry: Any) -> dict[str, Any]:
    return {
        "backlink_id": timeline.backlink_id,
        "run_id": entry.run_id,
        "run_state": entry.run_state,
        "started_at": _iso(entry.started_at),
        "status": entry.status,
        "reason": entry.reason,
        "checked_at": _iso(entry.checked_at),
        "state": entry.state.name.lower(),
        "events": [e.as_dict() for e in entry.events],
    }


def _event_text(event: Any) -> str:
    before, after = json.dumps(event.before, ensure_ascii=False), json.dumps(event.after, ensure_ascii=False)
    if event.field is not None:
        return f"{event.kind.value}: {event.field.value} {before} => {after}"
    return f"{event.kind.value}: {before} => {after}"


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "?"


def _iso(value: Any) -> str | None:
    return value.isoformat() + "Z" if value else None
