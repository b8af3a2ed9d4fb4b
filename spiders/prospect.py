"""The prospect spider: fetch each resource page once, check each distinct outbound URL once,
store what it found (DESIGN §7).

Thin by design: it builds requests and keeps the bookkeeping of a run (which URLs wait for
which origin's soft-404 probe); deciding what is dead is `linkcrawler.prospects.classify`.
Politeness (robots.txt, per-site pacing, retries, the address guard) comes from the
middlewares and the scheduler, for the checked hosts as much as for the resource pages.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from typing import Any

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, StopDownload
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from linkcrawler.db import Database, open_database
from linkcrawler.enums import Reason, RunState
from linkcrawler.errors import reason_for_exception
from linkcrawler.extraction import parse_page
from linkcrawler.prospects import (
    CHECK_BODY_BYTES,
    RUN_KIND,
    FetchFacts,
    RowBuffer,
    check_row,
    classify,
    dns_finding,
    internal_url,
    link_row,
    needs_get,
    needs_probe,
    origin_of,
    outbound_url,
    page_fingerprint,
    page_row,
    probe_url,
    robots_failure_cause,
    save_rows,
)
from linkcrawler.runs import create_run, finish_run, heartbeat
from linkcrawler.urls import host_of, registrable_domain
from spiders.verify import HTML_TYPES

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _Check:
    """One outbound URL's check in progress."""

    head: FetchFacts | None = None
    get: FetchFacts | None = None


def _content_type(response: Response) -> str:
    return response.headers.get(b"Content-Type", b"").decode("latin-1").lower()


def _is_html(content_type: str) -> bool:
    mime = content_type.split(";", 1)[0].strip()
    return not mime or mime in HTML_TYPES


class ProspectSpider(scrapy.Spider):
    name = "prospect"

    def __init__(self, *args: Any, run_id: int | str | None = None, db: str | None = None,
                 seeds: list[str] | str = (), same_site_depth: int | str = 0, max_pages: int | str = 1000,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.run_id = int(run_id) if run_id is not None else None
        self.db_url = db
        self.database: Database | None = None
        self.seeds = seeds.split() if isinstance(seeds, str) else list(seeds)
        self.max_depth = int(same_site_depth)
        self.max_pages = int(max_pages)
        self.site_domains = frozenset(registrable_domain(host_of(s)) for s in self.seeds)
        self.pages_seen: set[str] = set()
        self.checks: dict[str, _Check] = {}
        self.checked: set[str] = set()
        self.probes: dict[str, FetchFacts] = {}
        self.probe_waiting: dict[str, list[str]] = {}
        self.dns_pending = 0
        self.rows = RowBuffer()

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> ProspectSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.database = open_database(spider.db_url or settings.get("LINKCRAWLER_DB"))
        if spider.run_id is None:
            # `scrapy crawl prospect -a seeds=...` without the CLI: start a run here.
            with spider.database.sessions.begin() as session:
                spider.run_id = create_run(session, tag=None, options={}, kind=RUN_KIND).id
        spider.start_buffer = settings.getint("LINKCRAWLER_START_BUFFER")
        spider.batch_size = settings.getint("LINKCRAWLER_BATCH_SIZE")
        crawler.signals.connect(spider._headers, signal=signals.headers_received)
        crawler.signals.connect(spider._bytes, signal=signals.bytes_received)
        crawler.signals.connect(spider._idle, signal=signals.spider_idle)
        return spider

    # --- requests ---------------------------------------------------------------------------

    async def start(self):  # noqa: ANN201 - an async generator of requests
        scheduler = self.crawler.engine.scheduler
        for url in self.seeds:
            while scheduler is not None and len(scheduler) >= self.start_buffer:
                await asyncio.sleep(0.05)
            if url not in self.pages_seen:
                self.pages_seen.add(url)
                yield self.page_request(url, 0)

    def page_request(self, url: str, depth: int) -> Request:
        return Request(url, callback=self.parse_resource, errback=self.resource_failed, dont_filter=True,
                       meta={"lc_kind": "page", "lc_page": url, "lc_depth": depth})

    def check_request(self, url: str, method: str) -> Request:
        meta: dict[str, Any] = {"lc_kind": "check", "lc_url": url, "lc_method": method}
        if method == "HEAD":
            # Redirect hops become GETs in the redirect middleware; still read no body.
            meta["lc_headers_only"] = True
        else:
            meta["lc_body_limit"] = CHECK_BODY_BYTES
        return Request(url, method=method, callback=self.checked_response, errback=self.check_failed,
                       dont_filter=True, meta=meta)

    def probe_request(self, url: str) -> Request:
        origin = origin_of(url)
        return Request(probe_url(url), callback=self.probe_response, errback=self.probe_failed,
                       dont_filter=True,
                       meta={"lc_kind": "probe", "lc_origin": origin, "lc_body_limit": CHECK_BODY_BYTES})

    def _headers(self, response: Response, request: Request, spider: Any) -> None:
        meta = request.meta
        if meta.get("lc_headers_only"):
            raise StopDownload(fail=False)
        if meta.get("lc_body_limit") and (not _is_html(_content_type(response))
                                          or not 200 <= response.status < 300):
            # Only a 2xx HTML body can be a soft 404; a PDF or an error page is judged by status.
            raise StopDownload(fail=False)

    def _bytes(self, data: bytes, request: Request, spider: Any) -> None:
        limit = request.meta.get("lc_body_limit")
        if limit:
            seen = request.meta.get("lc_bytes", 0) + len(data)
            request.meta["lc_bytes"] = seen
            if seen >= limit:
                raise StopDownload(fail=False)

    def _idle(self, spider: Any) -> None:
        self.flush()
        if self.dns_pending:
            raise DontCloseSpider

    # --- resource pages ---------------------------------------------------------------------

    def parse_resource(self, response: Response) -> list[Request]:
        meta = response.meta
        depth = meta["lc_depth"]
        url = response.url
        self.pages_seen.add(url)
        status = response.status
        if not 200 <= status < 300:
            return self._page_done(meta["lc_page"], depth, status, url, None, 0, f"HTTP {status}")
        content_type = _content_type(response)
        if not _is_html(content_type):
            return self._page_done(meta["lc_page"], depth, status, url, None, 0,
                                   f"not_html: Content-Type is {content_type.split(';')[0]}")
        try:
            parsed = parse_page(response.body, url, content_type=content_type or "text/html",
                                x_robots_tag=[v.decode("latin-1") for v in response.headers.getlist(b"X-Robots-Tag")])
        except Exception as exc:  # noqa: BLE001 - one bad page must not end the run
            logger.exception("failed to parse %s", url)
            return self._page_done(meta["lc_page"], depth, status, url, None, 0, f"could not parse: {exc!r}")
        out: list[Request] = []
        outbound = 0
        for ordinal, link in enumerate(parsed.links):
            target = outbound_url(url, link.url)
            if target is not None:
                outbound += 1
                self.rows.links.append(link_row(self.run_id, url, ordinal, target, link))
                if target not in self.checked:
                    self.checked.add(target)
                    self.checks[target] = _Check()
                    out.append(self.check_request(target, "HEAD"))
            elif depth < self.max_depth and len(self.pages_seen) < self.max_pages:
                internal = internal_url(self.site_domains, url, link.url)
                if internal is not None and internal not in self.pages_seen:
                    self.pages_seen.add(internal)
                    out.append(self.page_request(internal, depth + 1))
        return out + self._page_done(meta["lc_page"], depth, status, url, parsed.info.title, outbound, None)

    def resource_failed(self, failure: Failure) -> list[Request]:
        request: Request = failure.request  # type: ignore[attr-defined]
        reason, detail = reason_for_exception(failure.value)
        return self._page_done(request.meta["lc_page"], request.meta["lc_depth"], None, None, None, 0,
                               f"{reason.value}: {detail}")

    def _page_done(self, url: str, depth: int, status: int | None, final_url: str | None, title: str | None,
                   outbound: int, error: str | None) -> list[Request]:
        self.rows.pages.append(page_row(self.run_id, url, depth=depth, status=status, final_url=final_url,
                                        title=title, outbound=outbound, error=error))
        self._maybe_flush()
        return []

    # --- outbound URL checks ----------------------------------------------------------------

    @staticmethod
    def _facts(response: Response, method: str) -> FetchFacts:
        meta = response.meta
        title = words = None
        if method == "GET" and 200 <= response.status < 300 and _is_html(_content_type(response)):
            title, words = page_fingerprint(response.body, _content_type(response))
        return FetchFacts(method=method, status=response.status, final_url=response.url,
                          redirects=tuple(meta.get("lc_hops", ())), attempts=meta.get("lc_attempts", 1),
                          title=title, words=words)

    @staticmethod
    def _failure_facts(failure: Failure, method: str) -> FetchFacts:
        request: Request = failure.request  # type: ignore[attr-defined]
        reason, detail = reason_for_exception(failure.value)
        if reason is Reason.ROBOTS_UNAVAILABLE:
            reason = robots_failure_cause(detail) or reason
        attempts = request.meta.get("lc_attempts", 1) + (1 if request.meta.get("lc_reasked") else 0)
        return FetchFacts(method=method, final_url=request.url, redirects=tuple(request.meta.get("lc_hops", ())),
                          error=reason, detail=detail, attempts=attempts)

    def checked_response(self, response: Response) -> list[Request]:
        url, method = response.meta["lc_url"], response.meta["lc_method"]
        check = self.checks[url]
        facts = self._facts(response, method)
        if method == "HEAD":
            check.head = facts
            if needs_get(facts):
                return [self.check_request(url, "GET")]
        else:
            check.get = facts
        if facts.ok and needs_probe(url):
            return self._with_probe(url)
        return self._finish(url)

    def check_failed(self, failure: Failure) -> list[Request]:
        request: Request = failure.request  # type: ignore[attr-defined]
        url, method = request.meta["lc_url"], request.meta["lc_method"]
        facts = self._failure_facts(failure, method)
        if facts.error is Reason.TIMEOUT and facts.attempts < 2:
            # A timeout is only dead once a second attempt confirms it; the retry layer usually
            # did that already (lc_attempts), this covers the case where it did not.
            meta = {**request.meta, "lc_reasked": True}
            meta.pop("lc_bytes", None)
            return [request.replace(meta=meta, dont_filter=True)]
        check = self.checks[url]
        if method == "HEAD":
            check.head = facts
            if facts.error is Reason.CONNECTION_ERROR and "refused" not in facts.detail.lower():
                # Some servers drop the connection on HEAD only: ask the way browsers do.
                return [self.check_request(url, "GET")]
        else:
            check.get = facts
        if facts.error in (Reason.DNS_ERROR, Reason.DOMAIN_GONE):
            return self._look_up(url, facts)
        return self._finish(url)

    def _look_up(self, url: str, facts: FetchFacts) -> list[Request]:
        """Ask DNS again, directly, whether the name is gone or the resolver just failed."""
        from twisted.internet.threads import deferToThread

        self.dns_pending += 1

        def done(finding: Any) -> None:
            self.dns_pending -= 1
            check = self.checks[url]
            found = replace(facts, dns=finding if not isinstance(finding, Failure) else None)
            if check.get is not None:
                check.get = found
            else:
                check.head = found
            self._finish(url)

        deferToThread(dns_finding, host_of(facts.final_url or url)).addBoth(done)
        return []

    def _with_probe(self, url: str) -> list[Request]:
        origin = origin_of(url)
        if origin in self.probes:
            return self._after_probe(url)
        waiting = self.probe_waiting.get(origin)
        if waiting is not None:
            waiting.append(url)
            return []
        self.probe_waiting[origin] = [url]
        return [self.probe_request(url)]

    def _after_probe(self, url: str) -> list[Request]:
        check = self.checks[url]
        probe = self.probes[origin_of(url)]
        if check.get is None and probe.ok:
            # The host answers 2xx even where nothing exists: the page's content must be
            # compared with the probe's, which HEAD cannot show.
            return [self.check_request(url, "GET")]
        return self._finish(url)

    def probe_response(self, response: Response) -> list[Request]:
        return self._probed(response.meta["lc_origin"], self._facts(response, "GET"))

    def probe_failed(self, failure: Failure) -> list[Request]:
        request: Request = failure.request  # type: ignore[attr-defined]
        return self._probed(request.meta["lc_origin"], self._failure_facts(failure, "GET"))

    def _probed(self, origin: str, facts: FetchFacts) -> list[Request]:
        self.probes[origin] = facts
        out: list[Request] = []
        for url in self.probe_waiting.pop(origin, ()):
            out += self._after_probe(url)
        return out

    def _finish(self, url: str) -> list[Request]:
        check = self.checks.pop(url)
        result = classify(url, check.head, check.get, self.probes.get(origin_of(url)))
        self.rows.checks.append(check_row(self.run_id, url, result))
        self._maybe_flush()
        return []

    # --- storage ----------------------------------------------------------------------------

    def _maybe_flush(self) -> None:
        if len(self.rows) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if not len(self.rows) or self.database is None:
            return
        rows = self.rows.take()
        with self.database.sessions.begin() as session:
            save_rows(session, rows)
            heartbeat(session, self.run_id)

    def closed(self, reason: str) -> None:
        self.flush()
        if reason == "finished" and not self.checks:
            state, error = RunState.COMPLETED, None
        elif reason in ("shutdown", "cancelled"):
            state, error = RunState.INTERRUPTED, f"stopped ({reason})"
        else:
            state, error = RunState.ABORTED, f"{reason}; {len(self.checks)} URL checks unfinished"
        assert self.database is not None
        with self.database.sessions.begin() as session:
            finish_run(session, self.run_id, state, error)
