"""`linkcrawler prospect SEEDS...`: broken-link-building prospects from resource pages (§7)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from linkcrawler.commands import open_db
from linkcrawler.commands._crawl_options import add_crawl_arguments, settings_from_args
from linkcrawler.enums import ExitStatus, RunState

NAME = "prospect"
ORDER = 60
HELP = "find dead outbound links on resource pages (broken-link-building prospects)"
DESCRIPTION = """\
Fetch each seed page once (and, with --same-site-depth, pages of the seed sites it links to),
check every distinct outbound URL once (HEAD, then GET where HEAD is refused or unreliable;
robots.txt and per-site pacing apply to the checked sites too) and store the verdict of each:
domain_expired (NXDOMAIN), dead (404, 410, refused, TLS failure, confirmed timeout, soft 404,
or a redirect chain ending in one of these), blocked (401/403/429), unchecked (robots.txt),
error (inconclusive) or alive. Prints a summary and the top prospects; `linkcrawler prospects`
lists them all. SEEDS are URLs or files of URLs (one per line, # comments).
Exit status: 0 done, 2 bad usage or bad seeds, 3 the run could not complete."""
EXAMPLE = "linkcrawler prospect resources.txt --same-site-depth 1 --delay 2"
TOP = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("seeds", nargs="+", metavar="SEEDS", help="seed page URLs, or files of URLs")
    parser.add_argument("--same-site-depth", type=int, default=0, metavar="N",
                        help="also follow links within the seed sites up to N clicks deep (default 0)")
    parser.add_argument("--max-pages", type=int, default=1000, metavar="N",
                        help="fetch at most N resource pages when following links (default %(default)s)")
    add_crawl_arguments(parser)


def run(args: argparse.Namespace) -> ExitStatus:
    from linkcrawler.crawl import run_spider
    from linkcrawler.db import Run
    from linkcrawler.errors import UsageError
    from linkcrawler.prospects import RUN_KIND, read_seeds
    from linkcrawler.runs import active_run, create_run, mark_dead_runs_interrupted
    from spiders.prospect import ProspectSpider

    if args.same_site_depth < 0:
        raise UsageError("--same-site-depth must be 0 or more")
    if args.max_pages < 1:
        raise UsageError("--max-pages must be at least 1")
    seeds = read_seeds(args.seeds)
    overrides = settings_from_args(args)
    overrides["LINKCRAWLER_PROGRESS"] = False
    # One retry confirms a timeout or a refusal (and waits out one Retry-After); a dead link
    # is not worth five attempts and their backoff.
    overrides["LINKCRAWLER_MAX_ATTEMPTS"] = 2
    # A site that failed three requests in a row is down: its remaining links end at once
    # (confirmed timeouts/refusals) instead of each waiting out a growing backoff.
    overrides["LINKCRAWLER_HOST_MAX_FAILURES"] = 3
    database = open_db(args)
    with database.sessions.begin() as session:
        busy = active_run(session, RUN_KIND)
        if busy is not None:
            print(f"linkcrawler prospect: run {busy.id} is already in progress on this database "
                  f"(process {busy.owner}); wait for it to finish or stop it first", file=sys.stderr)
            return ExitStatus.RUN_FAILED
        mark_dead_runs_interrupted(session, RUN_KIND)
        run_id = create_run(session, tag=None, options=_recorded_options(args, seeds), kind=RUN_KIND).id
    print(f"run {run_id}: {len(seeds)} seed pages", file=sys.stderr)

    reason = run_spider(ProspectSpider, overrides, run_id=run_id, seeds=seeds,
                        same_site_depth=args.same_site_depth, max_pages=args.max_pages,
                        db=database.engine.url.render_as_string(hide_password=False))

    with database.sessions() as session:
        run = session.get(Run, run_id)
        assert run is not None
        state = RunState(run.state)
        if state is RunState.RUNNING:
            state = RunState.INTERRUPTED
        print_summary(session, run_id, state, reason, file=sys.stdout)
    return ExitStatus.OK if state is RunState.COMPLETED else ExitStatus.RUN_FAILED


def _recorded_options(args: argparse.Namespace, seeds: list[str]) -> dict[str, Any]:
    return {"seeds": len(seeds), "same_site_depth": args.same_site_depth, "delay": args.delay,
            "concurrency": args.concurrency, "timeout": args.timeout, "allow_private": args.allow_private}


def print_summary(session: Any, run_id: int, state: RunState, reason: str, *, file: Any) -> None:
    from linkcrawler.prospects import VERDICT_ORDER, Verdict, ranked_prospects, run_counts

    counts = run_counts(session, run_id)
    checked = sum(counts.checks.values())
    print(f"run {run_id} {state.value} ({reason}): {counts.pages} pages "
          f"({counts.pages_failed} failed), {counts.links} outbound links, {checked} distinct URLs checked",
          file=file)
    width = max([len(k) for _v, k in counts.checks] + [4])
    print(f"  {'verdict':<15} {'kind':<{width}} {'urls':>7}", file=file)
    for (verdict, kind), n in sorted(counts.checks.items(),
                                     key=lambda item: (VERDICT_ORDER.get(Verdict(item[0][0]), 9), -item[1])):
        print(f"  {verdict:<15} {kind:<{width}} {n:>7}", file=file)
    prospects = ranked_prospects(session, run_id)
    if prospects:
        print(f"top prospects (of {len(prospects)}; `linkcrawler prospects` lists them all):", file=file)
        for p in prospects[:TOP]:
            print(f"  {p.rank:>3}. {p.url}  {p.verdict.value}/{p.kind}  "
                  f"{p.referring_domains} domains, {p.referring_pages} pages", file=file)
