"""Crawl options shared by `verify` and `prospect` (DESIGN §4), mapped to settings."""

from __future__ import annotations

import argparse
import json
from typing import Any

from linkcrawler import settings as defaults
from linkcrawler.errors import UsageError


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0 or value != value:
        raise argparse.ArgumentTypeError(f"must be a number >= 0: {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def add_crawl_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("crawl options")
    group.add_argument("--delay", type=_positive_float, default=defaults.LINKCRAWLER_DELAY, metavar="SECONDS",
                       help="minimum gap between requests to one site (default %(default)s)")
    group.add_argument("--concurrency", type=_positive_int, default=defaults.CONCURRENT_REQUESTS, metavar="N",
                       help="requests in flight across all sites (default %(default)s)")
    group.add_argument("--timeout", type=_positive_float, default=defaults.DOWNLOAD_TIMEOUT, metavar="SECONDS",
                       help="per-request timeout (default %(default)s)")
    group.add_argument("--user-agent", metavar="UA", default=None,
                       help=f"User-Agent header (default {defaults.USER_AGENT!r})")
    group.add_argument("--resolve", action="append", default=[], metavar="HOST:PORT:ADDR",
                       help="resolve HOST:PORT to ADDR, like curl; HOST may be * or *.suffix (repeatable)")
    group.add_argument("--allow-private", action="store_true",
                       help="permit loopback/private/link-local destinations (refused by default)")
    group.add_argument("--insecure", action="store_true", help="do not verify TLS certificates")
    group.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE", dest="settings",
                       help="override a Scrapy or LINKCRAWLER_* setting (JSON values), like scrapy -s")
    group.add_argument("--max-page-bytes", type=_positive_int, default=defaults.LINKCRAWLER_MAX_PAGE_BYTES,
                       metavar="N", help="larger pages end as too_large (default %(default)s)")


def _check_resolve(entry: str) -> str:
    host, sep1, rest = entry.partition(":")
    port, sep2, addr = rest.partition(":")
    if not (sep1 and sep2 and host and addr and port.isdigit()):
        raise UsageError(f"--resolve {entry!r}: expected HOST:PORT:ADDR, e.g. example.com:443:203.0.113.7")
    return entry


def settings_from_args(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {
        "LINKCRAWLER_DELAY": args.delay,
        "CONCURRENT_REQUESTS": args.concurrency,
        "DOWNLOAD_TIMEOUT": args.timeout,
        "LINKCRAWLER_RESOLVE": [_check_resolve(e) for e in args.resolve],
        "LINKCRAWLER_ALLOW_PRIVATE": args.allow_private,
        "DOWNLOAD_VERIFY_CERTIFICATES": not args.insecure,
        "LINKCRAWLER_MAX_PAGE_BYTES": args.max_page_bytes,
        "DOWNLOAD_MAXSIZE": args.max_page_bytes,
    }
    for item in args.settings:
        name, sep, value = item.partition("=")
        if not sep or not name.isidentifier() or not name.isupper():
            raise UsageError(f"--set {item!r}: expected NAME=VALUE, e.g. LINKCRAWLER_BACKOFF_BASE=0.5")
        try:
            overrides[name] = json.loads(value)
        except ValueError:
            overrides[name] = value
    if args.user_agent:
        overrides["USER_AGENT"] = args.user_agent
    if getattr(args, "verbose", 0) > 1:
        overrides["LOG_LEVEL"] = "DEBUG"
    elif getattr(args, "verbose", 0):
        overrides["LOG_LEVEL"] = "INFO"
    return overrides
