"""Retries that respect the site: Retry-After, exponential backoff, giving a failing site up.

`PoliteRetryMiddleware` (downloader middleware) treats 429, 5xx, timeouts and connection errors
as failed attempts:

- `meta["lc_attempts"]` counts attempts, the first included (set to 1 on the first pass); the
  result's `attempts` field is read from it (`response.meta` / `failure.request.meta`).
- 429/503 with Retry-After (delta-seconds or HTTP-date): the slot is blocked until then. Above
  LINKCRAWLER_MAX_RETRY_AFTER the site is given up for the run: this request and every queued or
  later request of the slot end with FetchError(BLOCKED), and the site sees no further request.
- Every failure counts against the slot; the pacer's gap grows by backoff (base x2 per
  consecutive failure, capped) until a success resets it.
- A retry is `request.copy()` with lc_attempts + 1 and dont_filter, back through the scheduler,
  so it is paced like any request (front of its slot's queue).
- After LINKCRAWLER_MAX_ATTEMPTS attempts the last response (HTTP status) or exception is passed
  on unchanged for the spider to classify.
- LINKCRAWLER_HOST_MAX_FAILURES consecutive failures of a slot without a success: the slot is
  abandoned. For HTTP failures the reason is BLOCKED, for network failures TIMEOUT or
  CONNECTION_ERROR; the request whose failure tips it over ends with that FetchError too.
  Other slots never wait for it.
- `meta["dont_retry"]` (robots.txt fetches set it): failures still count for pacing, no retry.
"""

from __future__ import annotations

import email.utils
import logging
import math
import time
from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest, NotConfigured

from linkcrawler.enums import Reason
from linkcrawler.errors import FetchError, reason_for_exception
from linkcrawler.scheduler import Pacer

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

RETRY_AFTER_STATUSES = frozenset({429, 503})
_NETWORK_REASONS = frozenset({Reason.TIMEOUT, Reason.CONNECTION_ERROR})


def is_failure_status(status: int) -> bool:
    return status == 429 or 500 <= status <= 599


def parse_retry_after(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (RFC 9110 §10.2.3), None if absent or invalid."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    seconds = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, seconds) if math.isfinite(seconds) else None


class PoliteRetryMiddleware:
    def __init__(
        self,
        pacer: Pacer,
        *,
        max_attempts: int,
        max_retry_after: float,
        host_max_failures: int,
    ) -> None:
        self.pacer = pacer
        self.max_attempts = max(1, max_attempts)
        self.max_retry_after = max_retry_after
        self.host_max_failures = max(1, host_max_failures)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PoliteRetryMiddleware:
        settings = crawler.settings
        if not settings.getbool("LINKCRAWLER_RETRY_ENABLED", True):
            raise NotConfigured("LINKCRAWLER_RETRY_ENABLED is off")
        return cls(
            Pacer.from_crawler(crawler),
            max_attempts=settings.getint("LINKCRAWLER_MAX_ATTEMPTS"),
            max_retry_after=settings.getfloat("LINKCRAWLER_MAX_RETRY_AFTER"),
            host_max_failures=settings.getint("LINKCRAWLER_HOST_MAX_FAILURES"),
        )

    def process_request(self, request: Request) -> None:
        request.meta.setdefault("lc_attempts", 1)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        slot = self.pacer.slot_of(request)
        if not is_failure_status(response.status):
            # A robots.txt answer (often a static 404) says nothing about whether pages work.
            self.pacer.record_success(slot, answered=request.meta.get("lc_kind") != "robots")
            return response
        what = f"{response.status} from {request.url}"
        if response.status in RETRY_AFTER_STATUSES:
            wait = parse_retry_after(response.headers.get(b"Retry-After"))
            if wait is not None:
                if wait > self.max_retry_after:
                    raise self._abandon(
                        slot,
                        Reason.BLOCKED,
                        f"{what} with Retry-After {wait:.0f} s, above the "
                        f"{self.max_retry_after:g} s we wait: {slot} given up for this run",
                    )
                self.pacer.block_until(slot, self.pacer.clock() + wait)
        self._count_failure(slot, Reason.BLOCKED, what)
        return self._retry(request, what) or response

    def process_exception(self, request: Request, exception: Exception) -> Request | None:
        if isinstance(exception, (FetchError, IgnoreRequest)):
            return None
        reason, detail = reason_for_exception(exception)
        if reason not in _NETWORK_REASONS:
            return None
        slot = self.pacer.slot_of(request)
        self._count_failure(slot, reason, f"{detail} for {request.url}")
        return self._retry(request, detail)

    def _count_failure(self, slot: str, reason: Reason, what: str) -> None:
        failures = self.pacer.record_failure(slot)
        if failures >= self.host_max_failures:
            raise self._abandon(
                slot,
                reason,
                f"{failures} failed attempts in a row at {slot} (last: {what}): "
                f"given up for this run",
            )

    def _abandon(self, slot: str, reason: Reason, detail: str) -> FetchError:
        error = self.pacer.abandon(slot, reason, detail)
        return FetchError(error.reason, error.detail)

    def _retry(self, request: Request, why: str) -> Request | None:
        attempts = int(request.meta.get("lc_attempts", 1))
        if request.meta.get("dont_retry") or attempts >= self.max_attempts:
            return None
        logger.debug("Retrying %s (attempt %d, %s)", request.url, attempts + 1, why)
        retry = request.copy()
        retry.meta["lc_attempts"] = attempts + 1
        retry.meta["lc_front"] = True
        retry.dont_filter = True
        return retry
