"""`linkcrawler prospects`: the dead URLs of a prospect run, ranked, with their referring links."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from linkcrawler.commands import open_db
from linkcrawler.enums import ExitStatus

NAME = "prospects"
ORDER = 61
HELP = "list the dead URLs of a prospect run, ranked by referring domains and pages"
DESCRIPTION = """\
The dead outbound URLs found by a `linkcrawler prospect` run (the newest by default): expired
domains first (they can be registered again), then by the number of referring domains and
referring pages. Each comes with its status, redirect chain and every referring link (page,
anchor, rel, position, context). --format csv writes one row per referring link."""
EXAMPLE = "linkcrawler prospects --format csv > prospects.csv"

CSV_HEADER = ["rank", "url", "domain", "verdict", "kind", "http_status", "final_url", "redirects", "error",
              "referring_pages", "referring_domains", "page_url", "anchor_text", "img_alt", "rel",
              "nofollow", "position", "hidden", "context_before", "context_after"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", metavar="ID", help="a prospect run id, or 'latest' (default)")
    parser.add_argument("--format", choices=["text", "csv", "jsonl"], default="text")
    parser.add_argument("--verdict", action="append", default=[], metavar="V",
                        choices=["domain_expired", "dead", "blocked", "unchecked", "error", "alive"],
                        help="list URLs with this verdict instead of the dead ones (repeatable)")
    parser.add_argument("--limit", type=int, default=0, metavar="N", help="only the first N URLs")


def run(args: argparse.Namespace) -> ExitStatus:
    from linkcrawler.errors import UsageError
    from linkcrawler.prospects import Verdict, prospect_run, ranked_prospects

    run_id: int | None = None
    if args.run not in (None, "latest"):
        if not str(args.run).isdigit():
            raise UsageError(f"--run takes a run id or 'latest', got {args.run!r}")
        run_id = int(args.run)
    database = open_db(args)
    with database.sessions() as session:
        run = prospect_run(session, run_id)
        verdicts = [Verdict(v) for v in args.verdict] or None
        prospects = ranked_prospects(session, run.id, verdicts)
        if args.limit > 0:
            prospects = prospects[: args.limit]
        write = {"text": write_text, "csv": write_csv, "jsonl": write_jsonl}[args.format]
        write(run.id, prospects, sys.stdout)
    return ExitStatus.OK


def write_jsonl(run_id: int, prospects: list[Any], out: TextIO) -> None:
    from linkcrawler.prospects import dumps

    for p in prospects:
        out.write(dumps(p.as_json(run_id)) + "\n")


def write_csv(run_id: int, prospects: list[Any], out: TextIO) -> None:
    from linkcrawler.csvsafe import writer
    from linkcrawler.prospects import redirect_text

    w = writer(out)
    w.writerow(CSV_HEADER)
    for p in prospects:
        head = [p.rank, p.url, p.domain, p.verdict.value, p.kind, p.http_status, p.final_url,
                redirect_text(p.redirects, p.final_url), p.error, p.referring_pages, p.referring_domains]
        for r in p.referrers or [None]:
            tail = ([r.page_url, r.anchor_text, r.img_alt, " ".join(r.rel), r.nofollow, r.position, r.hidden,
                     r.context_before, r.context_after] if r is not None else [""] * 9)
            w.writerow(head + tail)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def write_text(run_id: int, prospects: list[Any], out: TextIO) -> None:
    from linkcrawler.prospects import redirect_text

    print(f"prospect run {run_id}: {len(prospects)} URLs", file=out)
    for p in prospects:
        status = p.http_status if p.http_status is not None else "-"
        print(f"\n{p.rank:>3}. {p.url}", file=out)
        print(f"     {p.verdict.value}/{p.kind}, HTTP {status}; {p.referring_domains} referring domains, "
              f"{p.referring_pages} referring pages", file=out)
        if p.redirects:
            print(f"     redirects: {redirect_text(p.redirects, p.final_url)}", file=out)
        if p.error:
            print(f"     error: {_clip(p.error, 200)}", file=out)
        for r in p.referrers:
            anchor = r.anchor_text or (f"[img alt={r.img_alt!r}]" if r.img_alt else "[no text]")
            rel = f" rel={' '.join(r.rel)}" if r.rel else ""
            print(f"     - {r.page_url}  ({r.position}{rel}{', hidden' if r.hidden else ''})", file=out)
            print(f"       “{_clip(r.context_before, 60)} [{_clip(anchor, 80)}] {_clip(r.context_after, 60)}”",
                  file=out)
