"""Reference crawler (b) for bench/verify.py: what users write themselves — 16 threads of
requests + BeautifulSoup, each page fetched, parsed and its <a href> compared with the target.

    python bench/reference_requests.py BACKLINKS.csv OUT.jsonl --connect 127.0.0.1:PORT
        [--threads 16] [--parser html.parser|lxml]

BACKLINKS.csv has the columns source_url,target_url. Every request goes to --connect with the
page's own Host header (no DNS); redirects are followed (requests' default). requests is a
bench/test-only dependency (pip install requests beautifulsoup4), never a runtime one.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import requests
from bs4 import BeautifulSoup

_local = threading.local()


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


def check(row: dict[str, str], connect: str, parser: str) -> dict:
    source, target = row["source_url"], row["target_url"]
    parts = urlsplit(source)
    url = f"http://{connect}{parts.path}" + (f"?{parts.query}" if parts.query else "")
    try:
        response = _session().get(url, headers={"Host": parts.netloc}, timeout=30)
    except requests.RequestException as exc:
        return {"source_url": source, "http_status": None, "present": False, "error": repr(exc)}
    present = False
    if response.status_code == 200:
        soup = BeautifulSoup(response.text, parser)
        present = any(a["href"] == target for a in soup.find_all("a", href=True))
    return {"source_url": source, "http_status": response.status_code, "present": present}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("rows")
    ap.add_argument("out")
    ap.add_argument("--connect", required=True, help="ADDR:PORT every request is sent to")
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--parser", default="html.parser", help="BeautifulSoup parser (default %(default)s)")
    args = ap.parse_args(argv)
    with open(args.rows, newline="") as f, open(args.out, "w") as out, \
            ThreadPoolExecutor(args.threads) as pool:
        rows = csv.DictReader(f)
        for result in pool.map(lambda r: check(r, args.connect, args.parser), rows):
            out.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
