"""`linkcrawler verify`: one verification run over all (or --tag-selected) backlinks."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from linkcrawler.commands import open_db
from linkcrawler.commands._crawl_options import add_crawl_arguments, settings_from_args
from linkcrawler.enums import ExitStatus, RecheckPolicy, RunState, Status

NAME = "verify"
ORDER = 20
HELP = "fetch every referring page politely and store one result per backlink"
DESCRIPTION = """\
Fetch each referring page once (robots.txt, per-site pacing and the address guard apply),
find every link to the expected target, check each linked target once, and store exactly one
result per backlink. Progress goes to stderr; a table of counts by status and reason ends it.
Exit status: 0 done, 1 lost links or changes found with --fail-on, 2 bad usage, 3 the run
could not complete (it can be continued with --resume)."""
EXAMPLE = "linkcrawler verify --tag client-a --delay 2 --fail-on lost"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tag", help="verify only the backlinks with this tag")
    parser.add_argument("--resume", nargs="?", const="latest", metavar="RUN_ID",
                        help="continue an interrupted run (the newest unfinished one by default)")
    parser.add_argument("--fail-on", choices=["lost", "changes"],
                        help="exit 1 when the run finds lost links (or any change since the last run)")
    parser.add_argument("--notify", action="append", default=[], metavar="URL",
                        help="after the run, post a summary to this webhook URL or mailto:ADDRESS (repeatable)")
    parser.add_argument("--confirm", type=int, default=1, metavar="N",
                        help="for --fail-on and --notify: lost only after N consecutive conclusive misses")
    parser.add_argument("--recheck-delay", type=float, default=None, metavar="SECONDS",
                        help="pause before re-checking a link that looks lost (default 5)")
    parser.add_argument("--recheck", choices=[p.value for p in RecheckPolicy], default=None,
                        help="which lost-looking links get that re-check: live = those last seen live, "
                             "the only ones that can raise a lost alarm (default); all; none")
    parser.add_argument("--no-progress", action="store_true", help="no progress output on stderr")
    add_crawl_arguments(parser)


def run(args: argparse.Namespace) -> ExitStatus:
    from linkcrawler.crawl import run_spider
    from linkcrawler.db import Run
    from linkcrawler.errors import UsageError
    from linkcrawler.runs import (
        active_run,
        claim_run,
        count_pending,
        create_run,
        mark_dead_runs_interrupted,
        resumable_run,
    )
    from spiders.verify import VerifySpider

    overrides = settings_from_args(args)
    if args.recheck is not None:
        overrides["LINKCRAWLER_RECHECK"] = args.recheck
    recheck = overrides.get("LINKCRAWLER_RECHECK")
    if recheck is not None and recheck not in {p.value for p in RecheckPolicy}:
        raise UsageError(f"LINKCRAWLER_RECHECK={recheck!r}: expected one of "
                         f"{', '.join(p.value for p in RecheckPolicy)}")
    database = open_db(args)
    with database.sessions.begin() as session:
        busy = active_run(session)
        if busy is not None:
            print(f"linkcrawler verify: run {busy.id} is already in progress on this database "
                  f"(process {busy.owner}, started {busy.started_at:%Y-%m-%d %H:%M:%S} UTC); "
                  "wait for it to finish or stop it first", file=sys.stderr)
            return ExitStatus.RUN_FAILED
        mark_dead_runs_interrupted(session)
        if args.resume:
            run_id = None if args.resume == "latest" else _run_id(args.resume)
            run = resumable_run(session, run_id)
            if args.tag and args.tag != run.tag:
                raise UsageError(f"run {run.id} was started with --tag {run.tag!r}; resume it without --tag")
            claim_run(session, run)
        else:
            run = create_run(session, tag=args.tag, options=_recorded_options(args))
        pages, backlinks = count_pending(session, run)
        run_id = run.id
    print(f"run {run_id}: {backlinks} backlinks on {pages} pages to check", file=sys.stderr)

    overrides["LINKCRAWLER_PROGRESS"] = not args.no_progress
    overrides["LINKCRAWLER_PROGRESS_TOTAL"] = backlinks
    if args.recheck_delay is not None:
        overrides["LINKCRAWLER_RECHECK_DELAY"] = args.recheck_delay
    reason = run_spider(VerifySpider, overrides, run_id=run_id, db=database.engine.url.render_as_string(
        hide_password=False))

    def conclude() -> tuple[RunState, bool]:
        with database.sessions() as session:
            run = session.get(Run, run_id)
            assert run is not None
            state = RunState(run.state)
            if state is RunState.RUNNING:  # stopped before the pipeline could record it
                state = RunState.INTERRUPTED
            print_summary(session, run_id, state, reason, file=sys.stdout)
            findings = (_findings(session, run_id, args.fail_on, args.confirm)
                        if state is RunState.COMPLETED else False)
        return state, findings

    state, findings = _retrying(conclude, overrides.get("LINKCRAWLER_DB_OUTAGE_SECONDS"))
    if state is RunState.COMPLETED:
        with database.sessions() as session:
            _notify(session, run_id, args.notify, args.confirm)
    if state is not RunState.COMPLETED:
        return ExitStatus.RUN_FAILED
    return ExitStatus.FINDINGS if findings else ExitStatus.OK


def _retrying(work: Any, limit: Any) -> Any:
    """Run `work`, retrying while the database is unreachable, for as long as a run would."""
    import time

    from sqlalchemy.exc import DBAPIError, OperationalError

    from linkcrawler import settings as defaults

    deadline = time.monotonic() + float(limit if limit is not None else defaults.LINKCRAWLER_DB_OUTAGE_SECONDS)
    while True:
        try:
            return work()
        except (OperationalError, DBAPIError):
            if time.monotonic() > deadline:
                raise
            time.sleep(1.0)


def _run_id(text: str) -> int:
    from linkcrawler.errors import UsageError

    if not text.isdigit():
        raise UsageError(f"--resume takes a run id, got {text!r}")
    return int(text)


def _recorded_options(args: argparse.Namespace) -> dict[str, Any]:
    return {"delay": args.delay, "concurrency": args.concurrency, "timeout": args.timeout,
            "tag": args.tag, "allow_private": args.allow_private}


def print_summary(session: Any, run_id: int, state: RunState, reason: str, *, file: Any) -> None:
    from linkcrawler.runs import status_counts

    counts = status_counts(session, run_id)
    total = sum(c.count for c in counts)
    print(f"run {run_id} {state.value} ({reason}): {total} results", file=file)
    width = max([len(c.reason) for c in counts] + [6])
    print(f"  {'status':<11} {'reason':<{width}} {'count':>8}", file=file)
    order = {Status.LIVE.value: 0, Status.LOST.value: 1, Status.UNVERIFIED.value: 2}
    for c in sorted(counts, key=lambda c: (order.get(c.status, 9), -c.count, c.reason)):
        print(f"  {c.status:<11} {c.reason:<{width}} {c.count:>8}", file=file)


def _findings(session: Any, run_id: int, fail_on: str | None, confirm: int) -> bool:
    if fail_on is None:
        return False
    if fail_on == "lost":
        from sqlalchemy import func, select

        from linkcrawler.db import Result

        lost = session.scalar(select(func.count()).where(Result.run_id == run_id,
                                                         Result.status == Status.LOST.value))
        return bool(lost)
    from linkcrawler.changes import compute_changes, previous_run_id

    before = previous_run_id(session, run_id)
    return before is not None and next(iter(compute_changes(session, before, run_id, confirm=confirm)),
                                      None) is not None


def _notify(session: Any, run_id: int, destinations: list[str], confirm: int) -> None:
    if not destinations:
        return
    from linkcrawler.changes import compute_changes, previous_run_id
    from linkcrawler.notify import notify, summarize_run

    summary = summarize_run(session, run_id)
    before = previous_run_id(session, run_id)
    events = list(compute_changes(session, before, run_id, confirm=confirm)) if before is not None else []
    for destination in destinations:
        # The outcome names the destination with its secret parts (webhook path, password) hidden.
        print(f"notify: {notify(destination, summary, events)}", file=sys.stderr)
