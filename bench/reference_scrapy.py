"""Reference crawler (a) for bench/verify.py: the leanest Scrapy spider that answers "is the
target still on the page?" — fetch each referring page, search its body for the target URL's
bytes, write one JSON line. No robots.txt, no pacing, no parsing, no database: the
framework's own ceiling on this machine.

    python bench/reference_scrapy.py BACKLINKS.csv OUT.jsonl --connect 127.0.0.1:PORT [--concurrency 32]
    python bench/reference_scrapy.py BACKLINKS.csv OUT.jsonl --resolve-to 127.0.0.1 [--concurrency 32]

BACKLINKS.csv has the columns source_url,target_url. Redirects are followed (Scrapy's default).
With --connect, every request goes to that one address with the page's own Host header: no
DNS, and Scrapy treats all pages as one site (one download slot, one connection pool for all).
With --resolve-to, each page is fetched from its own URL, as any real crawl must, every host
name resolving at once to ADDR (a warm DNS cache): one slot and connections per site.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer


class ResolveToResolver(CachingThreadedResolver):
    """Every name is RESOLVE_TO (answered like a DNS cache hit)."""

    address = "127.0.0.1"

    def getHostByName(self, name: str, timeout=()):  # noqa: ANN001, ANN201, N802
        return defer.succeed(self.address)


class BodySearchSpider(scrapy.Spider):
    name = "reference"

    def __init__(self, rows: str, out: str, connect: str | None, **kwargs):  # noqa: ANN003
        super().__init__(**kwargs)
        self.rows_path, self.connect = rows, connect
        self.out = open(out, "w")  # noqa: SIM115 - closed in closed()

    async def start(self):  # noqa: ANN201
        with open(self.rows_path, newline="") as f:
            for row in csv.DictReader(f):
                kwargs = {"cb_kwargs": {"source": row["source_url"], "target": row["target_url"]},
                          "dont_filter": True, "errback": self.failed}
                if self.connect is None:
                    yield scrapy.Request(row["source_url"], **kwargs)
                    continue
                parts = urlsplit(row["source_url"])
                url = f"http://{self.connect}{parts.path}" + (f"?{parts.query}" if parts.query else "")
                yield scrapy.Request(url, headers={"Host": parts.netloc}, **kwargs)

    def parse(self, response, source: str, target: str):  # noqa: ANN001, ANN201
        present = response.status == 200 and target.encode() in response.body
        self.out.write(json.dumps({"source_url": source, "http_status": response.status,
                                   "present": present}) + "\n")
        return ()

    def failed(self, failure):  # noqa: ANN001, ANN201
        source = failure.request.cb_kwargs["source"]
        self.out.write(json.dumps({"source_url": source, "http_status": None, "present": False,
                                   "error": repr(failure.value)}) + "\n")

    def closed(self, reason: str) -> None:
        self.out.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("rows")
    ap.add_argument("out")
    how = ap.add_mutually_exclusive_group(required=True)
    how.add_argument("--connect", help="ADDR:PORT every request is sent to, with the page's Host header")
    how.add_argument("--resolve-to", metavar="ADDR", help="fetch each page from its URL, every name resolving to ADDR")
    ap.add_argument("--concurrency", type=int, default=32)
    args = ap.parse_args(argv)
    resolver = {}
    if args.resolve_to:
        ResolveToResolver.address = args.resolve_to
        resolver = {"TWISTED_DNS_RESOLVER": f"{__name__}.ResolveToResolver"}
    process = CrawlerProcess({
        **resolver,
        "CONCURRENT_REQUESTS": args.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": args.concurrency,
        "DOWNLOAD_DELAY": 0,
        "ROBOTSTXT_OBEY": False,
        "COOKIES_ENABLED": False,
        "HTTPERROR_ALLOW_ALL": True,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "LOGSTATS_INTERVAL": 0,
    })
    process.crawl(BodySearchSpider, rows=args.rows, out=args.out, connect=args.connect)
    process.start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
