"""`linkcrawler stats`: referring domains, rel/position/anchor shares, status over time."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from linkcrawler.commands import open_db
from linkcrawler.commands._crawl_options import _positive_int as positive_int
from linkcrawler.enums import ExitStatus

NAME = "stats"
ORDER = 50
HELP = "referring domains, follow/nofollow, positions, anchor classes, trends"
DESCRIPTION = """\
Figures for one run (default: the latest completed run): live/lost/unverified counts and
reasons, referring domains (registrable domains of the referring pages), and of the live
links the shares of follow/nofollow/sponsored/ugc, of positions (body, header, nav, footer,
sidebar, comments) and of anchor-text classes: branded (contains a --brand term), naked_url,
generic ("click here", "read more", "hier klicken", "en savoir plus"...), exact and partial
(the target URL's keywords), image, empty, other. Then, per run up to this one, the counts
and the new, lost and recovered links (as `linkcrawler changes` reports them)."""
EXAMPLE = "linkcrawler stats --brand Acme --brand \"Acme Shoes\"\nlinkcrawler stats --run 12 --format json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", type=positive_int, metavar="ID", help="the run (default: latest completed)")
    parser.add_argument("--brand", action="append", default=[], metavar="TERM",
                        help="a brand name; anchors containing it count as branded (repeatable)")
    parser.add_argument("--confirm", type=positive_int, default=1, metavar="N",
                        help="as for `changes`: lost only after N consecutive misses (default 1)")
    parser.add_argument("--format", choices=["text", "json"], default="text")


def run(args: argparse.Namespace) -> ExitStatus:
    from linkcrawler.stats import default_stats_run, run_stats

    database = open_db(args)
    with database.sessions() as session:
        run_id = args.run if args.run is not None else default_stats_run(session)
        stats = run_stats(session, run_id, brands=args.brand, confirm=args.confirm)
    document = stats.as_dict()
    if args.format == "json":
        json.dump(document, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_text(document))
    return ExitStatus.OK


def render_text(d: dict[str, Any]) -> str:
    run = d["run"]
    status = d["status"]
    lines = [f"run {run['id']} ({run['state']}, started {run['started_at'] or '?'}): {d['total']} backlinks",
             f"  live {status.get('live', 0)}, lost {status.get('lost', 0)}, "
             f"unverified {status.get('unverified', 0)}"]
    lines += [f"    {reason:<20} {n:>8}" for reason, n in d["reasons"].items()]
    domains = d["referring_domains"]
    lines.append(f"referring domains: {domains['live']} with a live link (of {domains['all']} checked)")
    lines += [f"    {t['domain']:<40} {t['live_links']:>6}" for t in domains["top"]]
    for title, key in (("rel (of live links)", "rel"), ("position", "positions"),
                       ("anchor text" + (f" (brands: {', '.join(d['brands'])})" if d["brands"] else ""),
                        "anchors")):
        lines.append(f"{title}:")
        lines += [f"    {name:<12} {v['count']:>8}  {v['share'] * 100:5.1f}%" for name, v in d[key].items()]
    lines.append("over time:")
    lines.append(f"    {'run':>6}  {'started':<20}  {'live':>7} {'lost':>7} {'unverif':>7}  "
                 f"{'new':>6} {'lost':>6} {'recov':>6}")
    for p in d["over_time"]:
        lines.append(f"    {p['run_id']:>6}  {(p['started_at'] or '?')[:16]:<20}  {p['live']:>7} {p['lost']:>7} "
                     f"{p['unverified']:>7}  {p['new']:>6} {p['lost_events']:>6} {p['recovered']:>6}")
    return "\n".join(lines) + "\n"
