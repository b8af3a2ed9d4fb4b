"""Reference crawler (a) for bench/verify.py: the leanest Scrapy spider that answers "is the
target still on the page?" — fetch each referring page, search its body for the target URL's
bytes, write one JSON line. No robots.txt, no pacing, no parsing, no database: the
framework's own ceiling on this machine.

    python bench/reference_scrapy.py BACKLINKS.csv OUT.jsonl --connect 127.0.0.1:PORT [--concurrency 32]

BACKLINKS.csv has the columns source_url,target_url. Every request goes to --connect with the
page's own Host header (so no DNS is involved); redirects are followed (Scrapy's default).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import CrawlerProcess


class BodySearchSpider(scrapy.Spider):
    name = "reference"

    def __init__(self, rows: str, out: str, connect: str, **kwargs):  # noqa: ANN003
        super().__init__(**kwargs)
        self.rows_path, self.connect = rows, connect
        self.out = open(out, "w")  # noqa: SIM115 - closed in closed()

    async def start(self):  # noqa: ANN201
        with open(self.rows_path, newline="") as f:
            for row in csv.DictReader(f):
                parts = urlsplit(row["source_url"])
                url = f"http://{self.connect}{parts.path}" + (f"?{parts.query}" if parts.query else "")
                yield scrapy.Request(url, headers={"Host": parts.netloc}, dont_filter=True,
                                     cb_kwargs={"source": row["source_url"], "target": row["target_url"]},
                                     errback=self.failed)

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
    ap.add_argument("--connect", required=True, help="ADDR:PORT every request is sent to")
    ap.add_argument("--concurrency", type=int, default=32)
    args = ap.parse_args(argv)
    process = CrawlerProcess({
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
