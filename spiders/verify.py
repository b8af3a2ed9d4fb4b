"""The verify spider: fetch each referring page once, check the link targets once, and
emit exactly one `VerifiedResult` per backlink, whatever happens to the fetches.

Thin by design: it builds requests and keeps the bookkeeping of a run (which pages wait for
which target checks, which lost-looking pages are re-checked); extraction, matching and the
decision of a result are linkcrawler functions. Callbacks are plain functions returning lists.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from sqlalchemy.exc import DBAPIError, OperationalError
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from linkcrawler import settings as defaults
from linkcrawler.commands import mask_secrets
from linkcrawler.db import Database, open_database
from linkcrawler.enums import Reason, RecheckPolicy, Status
from linkcrawler.errors import FetchError, reason_for_exception
from linkcrawler.extraction import ParsedPage
from linkcrawler.lru import LruCache
from linkcrawler.parsing import PageParser, default_workers
from linkcrawler.redirects import next_hop
from linkcrawler.runs import iter_pending_jobs
from linkcrawler.sizelimit import READ_LIMIT
from linkcrawler.verification import (
    BacklinkSpec,
    LinkMatch,
    PageFetch,
    PageJob,
    TargetCheck,
    VerifiedResult,
    assess_page,
    challenge_in_body,
    challenge_in_headers,
    failed_result,
    matching_links,
    reason_for_status,
    target_urls_to_check,
)

logger = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(slots=True)
class _WaitingPage:
    """A parsed page whose results wait for the checks of its links' targets."""

    job: PageJob
    fetch: PageFetch
    parsed: ParsedPage
    matches: dict[int, list[LinkMatch]]
    needed: set[str] = field(default_factory=set)
    checks: dict[str, TargetCheck] = field(default_factory=dict)  # its own copy: the run's may drop them


def _lower_headers(response: Response) -> dict[bytes, bytes]:
    return {k.lower(): v[-1] for k, v in response.headers.items() if v}


class VerifySpider(scrapy.Spider):
    name = "verify"

    def __init__(self, *args: Any, run_id: int | str | None = None, db: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.run_id = int(run_id) if run_id is not None else None
        self.db_url = db
        self.database: Database | None = None
        # At most LINKCRAWLER_TARGET_CACHE: a target dropped from here is checked again if
        # another page links to it.
        self._target_results: LruCache[str, TargetCheck] = LruCache(defaults.LINKCRAWLER_TARGET_CACHE)
        self._target_waiting: dict[str, list[_WaitingPage]] = {}
        self._delayed: set[Request] = set()
        self.recheck = RecheckPolicy(defaults.LINKCRAWLER_RECHECK)
        self.today = dt.datetime.now(dt.UTC).date()

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> VerifySpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.database = open_database(spider.db_url or settings.get("LINKCRAWLER_DB"))
        if spider.run_id is None:
            spider.run_id = settings.getint("LINKCRAWLER_RUN_ID") or None
        if spider.run_id is None:
            # `scrapy crawl verify` without the CLI: start (or resume) a run here.
            from linkcrawler.runs import create_run

            with spider.database.sessions.begin() as session:
                spider.run_id = create_run(session, tag=kwargs.get("tag"), options={}).id
        spider.start_buffer = settings.getint("LINKCRAWLER_START_BUFFER")
        spider.max_target_checks = settings.getint("LINKCRAWLER_MAX_TARGET_CHECKS_PER_PAGE")
        spider._target_results.limit = max(1, settings.getint("LINKCRAWLER_TARGET_CACHE"))
        spider.meta_refresh_max_delay = settings.getfloat("LINKCRAWLER_META_REFRESH_MAX_DELAY")
        spider.recheck_delay = settings.getfloat("LINKCRAWLER_RECHECK_DELAY")
        spider.recheck = RecheckPolicy(settings.get("LINKCRAWLER_RECHECK"))
        spider.outage_seconds = settings.getfloat("LINKCRAWLER_DB_OUTAGE_SECONDS")
        spider.max_attempts = settings.getint("LINKCRAWLER_MAX_ATTEMPTS")
        workers = settings.get("LINKCRAWLER_PARSE_WORKERS")
        spider.parser = PageParser(
            default_workers() if workers is None else int(workers), settings.getint("LINKCRAWLER_PARSE_BACKLOG"),
            settings.getint("LINKCRAWLER_GC_YOUNG_THRESHOLD") if settings.getbool("LINKCRAWLER_GC_FREEZE") else None)
        crawler.signals.connect(spider.parser.close, signal=signals.spider_closed)
        spider.max_redirects = settings.getint("LINKCRAWLER_MAX_REDIRECTS")
        crawler.signals.connect(spider._keep_open, signal=signals.spider_idle)
        return spider

    # --- requests ---------------------------------------------------------------------------

    async def start(self):  # noqa: ANN201 - an async generator of requests
        assert self.database is not None and self.run_id is not None
        scheduler = self.crawler.engine.scheduler
        await self.parser.start()
        last_page, outage_since = 0, None
        while True:
            try:
                for job in iter_pending_jobs(self.database.sessions, self.run_id, after_page=last_page,
                                             history=self.recheck is RecheckPolicy.LIVE):
                    outage_since = None
                    # Read from the database only as fast as the crawl drains: a million
                    # backlinks never sit in memory at once.
                    while scheduler is not None and len(scheduler) >= self.start_buffer:
                        await asyncio.sleep(0.05)
                    last_page = job.page_id
                    yield self.page_request(job)
                return
            except (OperationalError, DBAPIError) as exc:
                # The database is away: wait for it (the pipeline keeps results meanwhile),
                # up to the same limit the result writer allows, then end the run unfinished.
                outage_since = outage_since or time.monotonic()
                if time.monotonic() - outage_since > self.outage_seconds:
                    # Stop reading; the result writer, which sees the same outage, ends the run.
                    logger.error("database unavailable for %.0f s; no more pages are read: %s",
                                 self.outage_seconds, mask_secrets(str(exc.orig)))
                    return
                logger.warning("database read failed, will retry: %s", mask_secrets(str(exc.orig)))
                await asyncio.sleep(1.0)

    def page_request(self, job: PageJob, *, recheck: bool = False) -> Request:
        return Request(
            job.url,
            callback=self.parse_page,
            errback=self.page_failed,
            dont_filter=True,
            meta={"lc_kind": "page", "lc_job": job, "lc_recheck": recheck},
        )

    def target_request(self, url: str) -> Request:
        return Request(
            url,
            callback=self.target_checked,
            errback=self.target_failed,
            dont_filter=True,
            # The status and headers are the answer: the body is not downloaded.
            meta={"lc_kind": "target", "lc_target_url": url, READ_LIMIT: 0},
        )

    def _keep_open(self, spider: Any) -> None:
        if self._delayed or self._target_waiting:
            raise DontCloseSpider

    def _later(self, request: Request, delay: float) -> list[Any]:
        """Schedule `request` after `delay` seconds (in-run re-checks wait for flaps to pass)."""
        from twisted.internet import reactor

        self._delayed.add(request)

        def release() -> None:
            self._delayed.discard(request)
            self.crawler.engine.crawl(request)

        reactor.callLater(delay, release)  # type: ignore[attr-defined]
        return []

    # --- referring pages --------------------------------------------------------------------

    @staticmethod
    def _fetch_facts(request: Request, response: Response | None = None) -> PageFetch:
        meta = request.meta
        return PageFetch(
            http_status=response.status if response is not None else None,
            final_url=response.url if response is not None else None,
            redirects=tuple(meta.get("lc_hops", ())),
            attempts=(meta["lc_prior_attempts"] + 1 if meta.get("lc_deferred")
                      else meta.get("lc_attempts", 1)),
            googlebot_allowed=meta.get("lc_googlebot_allowed"),
        )

    async def parse_page(self, response: Response) -> list[Any]:
        job: PageJob = response.meta["lc_job"]
        fetch = self._fetch_facts(response.request, response)
        try:
            early = self._assess_response(job, response, fetch)
            if early is not None:
                return early
            content_type = response.headers.get(b"Content-Type", b"").decode("latin-1").lower()
            parsed = await self.parser.parse(
                response.body, response.url, content_type or "text/html",
                [v.decode("latin-1") for v in response.headers.getlist(b"X-Robots-Tag")],
                # Only links to the targets' sites are reported: classify just those.
                [spec.target for spec in job.backlinks],
                response.status,
            )
            if parsed is None:
                return self._challenged(job, response, fetch)
            refresh = self._meta_refresh(response, parsed)
            if refresh is not None:
                return refresh
            return self._assess_links(job, fetch, parsed, response.request)
        except Exception as exc:  # noqa: BLE001 - one bad page must not lose its backlinks
            logger.exception("failed to assess %s", response.url)
            return self._conclude(job, Reason.NOT_HTML, f"could not process the page: {exc!r}", fetch)

    def _assess_response(self, job: PageJob, response: Response, fetch: PageFetch) -> list[Any] | None:
        """The results decided by the response alone (status, challenge, type); None: parse it."""
        # A 2xx body is scanned for challenge markers by the parser (read_page), off this process.
        if challenge_in_headers(_lower_headers(response)) or (
                not 200 <= response.status < 300 and challenge_in_body(response.status, response.body)):
            return self._challenged(job, response, fetch)
        reason = reason_for_status(response.status)
        if reason is Reason.PAGE_ERROR and response.status >= 500 and not self._site_answered(response):
            # A site failing on every request is down, not proof the link is gone: trust
            # before alarm. A page failing on a site that serves other pages is page_error.
            # Decide once the site's other waiting pages have been tried, so the answer does
            # not depend on which page happened to come first.
            if not response.meta.get("lc_deferred") and self._waiting_in_site(response):
                request = self.page_request(job)
                request.meta.update(lc_deferred=True, lc_prior_attempts=fetch.attempts,
                                    lc_attempts=self.max_attempts)  # one more try, no retries
                return [request]
            return self._conclude(job, Reason.BLOCKED, f"HTTP {response.status} on every request to "
                                  "this site during the run (site down?); not counted as lost", fetch)
        if reason is not None:
            detail = f"HTTP {response.status}"
            if 300 <= response.status < 400:
                detail += " without a usable Location header"
            return self._conclude(job, reason, detail, fetch, response.request)
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1").lower()
        mime = content_type.split(";", 1)[0].strip()
        if mime and mime not in HTML_TYPES:
            return self._conclude(job, Reason.NOT_HTML, f"Content-Type is {mime}", fetch)
        return None

    def _challenged(self, job: PageJob, response: Response, fetch: PageFetch) -> list[Any]:
        return self._conclude(job, Reason.BLOCKED, f"HTTP {response.status}: a bot challenge page", fetch)

    def _waiting_in_site(self, response: Response) -> int:
        pacer = getattr(self.crawler, "lc_pacer", None)
        scheduler = self.crawler.engine.scheduler
        if pacer is None or not hasattr(scheduler, "queued_in_slot"):
            return 0
        return scheduler.queued_in_slot(pacer.slot_of(response.request))

    def _site_answered(self, response: Response) -> bool:
        pacer = getattr(self.crawler, "lc_pacer", None)
        if pacer is None:
            return True
        return pacer.state(pacer.slot_of(response.request)).answered

    def _meta_refresh(self, response: Response, parsed: ParsedPage) -> list[Any] | None:
        info = parsed.info
        if info.meta_refresh_url is None or (info.meta_refresh_delay or 0) > self.meta_refresh_max_delay:
            return None
        request = response.request
        try:
            hop = next_hop(request, info.meta_refresh_url, response.status,
                           max_redirects=request.meta.get("lc_max_redirects", self.max_redirects))
        except FetchError as exc:
            job = request.meta["lc_job"]
            return self._conclude(job, exc.reason, exc.detail, self._fetch_facts(request, response))
        return [hop]

    def _assess_links(self, job: PageJob, fetch: PageFetch, parsed: ParsedPage,
                      request: Request) -> list[Any]:
        matches = {spec.id: matching_links(spec.target, parsed.links, parsed.info) for spec in job.backlinks}
        again = [] if request.meta.get("lc_recheck") else [
            spec for spec in job.backlinks if not matches[spec.id] and self._rechecks(spec)]
        out: list[Any] = []
        if again:
            # Looks lost: look once more after a pause before recording it, so a CDN flap or
            # a deploy in progress does not raise a false alarm.
            out += self._later(self.page_request(PageJob(job.page_id, job.url, tuple(again)),
                                                 recheck=True), self.recheck_delay)
            job = PageJob(job.page_id, job.url, tuple(s for s in job.backlinks if s not in again))
            if not job.backlinks:
                return out
        waiting = _WaitingPage(job, fetch, parsed, matches)
        for spec in job.backlinks:
            for url in target_urls_to_check(matches[spec.id], self.max_target_checks):
                known = self._target_results.get(url)
                if known is not None:
                    waiting.checks[url] = known
                    continue
                if url in waiting.needed:  # two backlinks of the page share the link
                    continue
                waiting.needed.add(url)
                if url not in self._target_waiting:
                    self._target_waiting[url] = []
                    out.append(self.target_request(url))
                self._target_waiting[url].append(waiting)
        if not waiting.needed:
            out += self._complete(waiting)
        return out

    def _complete(self, waiting: _WaitingPage) -> list[VerifiedResult]:
        return [
            assess_page(spec, waiting.fetch, waiting.parsed, waiting.matches[spec.id],
                        waiting.checks, self.today)
            for spec in waiting.job.backlinks
        ]

    def _conclude(self, job: PageJob, reason: Reason, detail: str, fetch: PageFetch,
                  request: Request | None = None, page: dict[str, Any] | None = None) -> list[Any]:
        # Retried failures are confirmed already; other lost-looking outcomes get one re-check.
        again = []
        if (reason.status is Status.LOST and request is not None
                and not request.meta.get("lc_recheck") and fetch.attempts <= 1):
            again = [spec for spec in job.backlinks if self._rechecks(spec)]
        out: list[Any] = [failed_result(spec, reason, detail, fetch, self.today, page)
                          for spec in job.backlinks if spec not in again]
        if again:
            out += self._later(self.page_request(PageJob(job.page_id, job.url, tuple(again)), recheck=True),
                               self.recheck_delay)
        return out

    def _rechecks(self, spec: BacklinkSpec) -> bool:
        """Whether a lost-looking backlink gets the in-run second look (LINKCRAWLER_RECHECK)."""
        if self.recheck is RecheckPolicy.LIVE:
            return spec.was_live
        return self.recheck is RecheckPolicy.ALL

    def page_failed(self, failure: Failure) -> list[Any]:
        request: Request = failure.request  # type: ignore[attr-defined]
        job: PageJob = request.meta["lc_job"]
        reason, detail = reason_for_exception(failure.value)
        return self._conclude(job, reason, detail, self._fetch_facts(request), request)

    # --- link targets -----------------------------------------------------------------------

    def target_checked(self, response: Response) -> list[Any]:
        url = response.meta["lc_target_url"]
        check = TargetCheck(
            status=response.status,
            final_url=response.url,
            redirects=tuple(response.meta.get("lc_hops", ())),
        )
        return self._record_target(url, check)

    def target_failed(self, failure: Failure) -> list[Any]:
        request: Request = failure.request  # type: ignore[attr-defined]
        reason, detail = reason_for_exception(failure.value)
        check = TargetCheck(status=None, final_url=None, redirects=tuple(request.meta.get("lc_hops", ())),
                            error=f"{reason.value}: {detail}")
        return self._record_target(request.meta["lc_target_url"], check)

    def _record_target(self, url: str, check: TargetCheck) -> list[Any]:
        self._target_results.put(url, check)
        out: list[Any] = []
        for waiting in self._target_waiting.pop(url, ()):
            waiting.needed.discard(url)
            waiting.checks[url] = check
            if not waiting.needed:
                out += self._complete(waiting)
        return out

