"""`linkcrawler inspect`: every link on one page with rel, position and context (no database)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from linkcrawler.commands._crawl_options import add_crawl_arguments, settings_from_args
from linkcrawler.enums import ExitStatus
from linkcrawler.errors import UsageError

NAME = "inspect"
ORDER = 60
HELP = "list every link on one page (a URL or a saved HTML file) with rel, position and context"
DESCRIPTION = """\
Fetch one page (politely: robots.txt and the address guard apply) or read a saved HTML file,
and list every link with its rel tokens, position on the page, hidden flag, anchor and
surrounding text. With --target, each link says how it matches the target. Nothing is stored."""
EXAMPLE = "linkcrawler inspect https://blog.example.com/review --target example.com"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("page", metavar="URL_OR_FILE", help="an http(s) URL, or a path to an HTML file")
    parser.add_argument("--base-url", metavar="URL", help="the page's URL when reading a file")
    parser.add_argument("--target", metavar="URL_OR_DOMAIN", help="mark how each link matches this target")
    parser.add_argument("--format", choices=["text", "jsonl"], default="text")
    add_crawl_arguments(parser)


def fetch_page(url: str, overrides: dict[str, Any]) -> tuple[bytes, str, str, list[str]]:
    """Fetch one page through the crawl stack; returns (body, final URL, content type, X-Robots-Tag)."""
    from linkcrawler.crawl import run_spider
    from spiders.inspect import InspectSpider

    outcome: dict[str, Any] = {}
    overrides = {**overrides, "LINKCRAWLER_PROGRESS": False, "ITEM_PIPELINES": {}}
    run_spider(InspectSpider, overrides, url=url, outcome=outcome)
    if "error" in outcome:
        raise UsageError(f"could not fetch {url}: {outcome['error']}")
    if not outcome:
        raise UsageError(f"could not fetch {url}: the crawl ended without a response")
    if outcome["status"] >= 400:
        raise UsageError(f"could not fetch {url}: HTTP {outcome['status']}")
    return outcome["body"], outcome["url"], outcome["content_type"], outcome["x_robots_tag"]


def run(args: argparse.Namespace) -> ExitStatus:
    from linkcrawler.extraction import parse_page
    from linkcrawler.urls import is_found, is_http_url, match_link, parse_target

    target = None
    if args.target:
        try:
            target = parse_target(args.target)
        except ValueError as exc:
            raise UsageError(f"--target: {exc}") from None
    if is_http_url(args.page):
        body, url, content_type, x_robots = fetch_page(args.page, settings_from_args(args))
    else:
        path = Path(args.page)
        if not path.is_file():
            raise UsageError(f"{args.page!r} is neither an http(s) URL nor a readable file")
        body, url = path.read_bytes(), args.base_url or path.resolve().as_uri()
        if args.base_url and not is_http_url(args.base_url):
            raise UsageError(f"--base-url must be an http(s) URL, got {args.base_url!r}")
        content_type, x_robots = "text/html", []
    parsed = parse_page(body, url, content_type=content_type, x_robots_tag=x_robots)
    rows = []
    for link in parsed.links:
        match = match_link(target, link.url) if target else None
        rows.append({
            "href": link.href, "url": link.url, "anchor_text": link.anchor_text, "img_alt": link.img_alt,
            "rel": list(link.rel), "nofollow": link.nofollow, "sponsored": link.sponsored, "ugc": link.ugc,
            "position": link.position.value, "hidden": link.hidden, "context_before": link.context_before,
            "context_after": link.context_after, "path": link.path, "position_signal": link.position_signal,
            "match": match.value if match else None,
            "found": is_found(target, match) if target else None,
        })
    out = sys.stdout
    if args.format == "jsonl":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        return ExitStatus.OK
    info = parsed.info
    out.write(f"{url}\n  title: {info.title!r}\n  noindex: {info.noindex}  nofollow: {info.page_nofollow}"
              f"  canonical: {info.canonical or '-'}\n  {len(rows)} links\n\n")
    for i, row in enumerate(rows, 1):
        flags = " ".join(x for x in (row["position"], " ".join(row["rel"]) or "follow",
                                     "hidden" if row["hidden"] else "", row["match"] or "") if x)
        out.write(f"{i:>4}. [{flags}] {row['url'] or row['href']}\n")
        out.write(f"      anchor: {row['anchor_text'] or row['img_alt']!r}\n")
        if row["context_before"] or row["context_after"]:
            out.write(f"      context: …{row['context_before']} [{row['anchor_text']}] {row['context_after']}…\n")
        out.write(f"      path: {row['path']}  ({row['position_signal']})\n")
    if target:
        found = [r for r in rows if r["found"]]
        out.write(f"\ntarget {target.raw}: {len(found)} matching link(s)\n")
    return ExitStatus.OK
