"""A minimal crawl in a subprocess, for end-to-end tests of the fetch components.

The Twisted reactor cannot be restarted in one process, so each crawl runs in its own:

    from tests.crawl_harness import run_crawl
    outcomes = run_crawl([url1, url2], {"LINKCRAWLER_DELAY": 0.2, **server.crawl_settings()})
    outcomes[url1]["reason"], outcomes[url1]["status"], outcomes[url1]["attempts"]

The child runs linkcrawler's settings (linkcrawler.settings) plus the given overrides, with no
item pipeline and no extensions, requests every URL once (meta lc_kind "page", plus `meta`),
and prints one JSON line per outcome on stdout:

    {"url": requested URL, "final_url": URL of the response or failed request,
     "status": HTTP status or null, "reason": Reason value for failures (reason_for_exception)
     or null, "detail": str, "attempts": meta lc_attempts, "googlebot_allowed": meta
     lc_googlebot_allowed, "time": time.time() of the outcome}

`run_crawl` returns them keyed by requested URL (`CrawlOutcomes`, with `.lines` in order, the
child's `.stderr`); `start_crawl` returns the Popen for tests that watch the running process.
Run by hand: `python -m tests.crawl_harness config.json` with {"urls": [...], "settings": {...},
"meta": {...}}.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

# The harness crawls only; storage, progress output and the project's spiders stay out of it.
_HARNESS_SETTINGS = {
    "SPIDER_MODULES": [],
    "ITEM_PIPELINES": {},
    "EXTENSIONS": {},
    "LINKCRAWLER_PROGRESS": False,
    "LOG_LEVEL": "WARNING",
}


class CrawlOutcomes(dict[str, dict[str, Any]]):
    lines: list[dict[str, Any]]
    stderr: str


def start_crawl(
    urls: list[str], settings: dict[str, Any] | None = None, *, meta: dict[str, Any] | None = None
) -> subprocess.Popen[str]:
    config = {"urls": urls, "settings": settings or {}, "meta": meta or {}}
    fd, path = tempfile.mkstemp(prefix="lc_harness_", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(config, f)
    return subprocess.Popen(
        [sys.executable, "-m", "tests.crawl_harness", path],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_crawl(
    urls: list[str],
    settings: dict[str, Any] | None = None,
    *,
    meta: dict[str, Any] | None = None,
    timeout: float = 120,
) -> CrawlOutcomes:
    """Crawl `urls` in a child process; the outcomes keyed by requested URL."""
    proc = start_crawl(urls, settings, meta=meta)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
        raise AssertionError(f"crawl did not finish in {timeout} s\n{stderr[-4000:]}") from None
    if proc.returncode != 0:
        raise AssertionError(f"crawl exited with {proc.returncode}\n{stderr[-4000:]}")
    result = CrawlOutcomes()
    result.lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    result.stderr = stderr
    for line in result.lines:
        result[line["url"]] = line
    missing = [u for u in urls if u not in result]
    if missing:
        raise AssertionError(f"no outcome for {missing}\n{stderr[-4000:]}")
    return result


# --- the child process --------------------------------------------------------------------------


def _emit(**fields: Any) -> None:
    print(json.dumps({**fields, "time": time.time()}), flush=True)


def _spider_class() -> type:
    from scrapy import Request, Spider

    from linkcrawler.errors import reason_for_exception

    class HarnessSpider(Spider):
        name = "lc_harness"

        def __init__(self, urls: list[str], meta: dict[str, Any], **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.urls = urls
            self.extra_meta = meta

        async def start(self):  # type: ignore[override]
            for url in self.urls:
                yield Request(
                    url,
                    callback=self.parse,
                    errback=self.failed,
                    dont_filter=True,
                    meta={"lc_kind": "page", "lc_url": url, **self.extra_meta},
                )

        def parse(self, response: Any) -> None:
            meta = response.meta
            _emit(
                url=meta["lc_url"],
                final_url=response.url,
                status=response.status,
                reason=None,
                detail="",
                attempts=meta.get("lc_attempts"),
                googlebot_allowed=meta.get("lc_googlebot_allowed"),
            )

        def failed(self, failure: Any) -> None:
            request = failure.request
            reason, detail = reason_for_exception(failure.value)
            _emit(
                url=request.meta["lc_url"],
                final_url=request.url,
                status=None,
                reason=str(reason),
                detail=detail,
                attempts=request.meta.get("lc_attempts"),
                googlebot_allowed=request.meta.get("lc_googlebot_allowed"),
            )

    return HarnessSpider


def main(argv: list[str]) -> int:
    from linkcrawler.crawl import crawl_settings
    from scrapy.crawler import CrawlerProcess

    config = json.loads(Path(argv[0]).read_text())
    Path(argv[0]).unlink(missing_ok=True)
    settings = crawl_settings({**_HARNESS_SETTINGS, **config.get("settings", {})})
    process = CrawlerProcess(settings)
    process.crawl(_spider_class(), urls=config["urls"], meta=config.get("meta", {}))
    process.start()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
