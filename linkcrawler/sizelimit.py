"""Page size limit that ends as `too_large` rather than as an anonymous cancelled download.

Scrapy's DOWNLOAD_MAXSIZE cancels an oversized download with a bare CancelledError (streamed
body) or a DownloadCancelledError (announced Content-Length), which the errback cannot tell from
other failures, and the retry middleware would retry as a connection error. This middleware
enforces LINKCRAWLER_MAX_PAGE_BYTES itself, first, through the headers_received and
bytes_received signals (Scrapy consults them before its own size checks), stopping the download
with StopDownload(fail=True) and turning that into FetchError(TOO_LARGE). DOWNLOAD_MAXSIZE stays
as the backstop for decompressed sizes (its IgnoreRequest mentions DOWNLOAD_MAXSIZE, which
`reason_for_exception` classifies as too_large).

It sits inside the retry middleware (higher priority number) so an oversized page is not
retried.

A request whose meta has READ_LIMIT is not a page: it is read up to that many bytes and then
ends quietly with what it has (StopDownload(fail=False)), never as too_large. robots.txt
fetches use it (RFC 9309: parse at least 500 KiB, ignore the rest); target checks use 0 (the
status and headers are the answer; the body is not downloaded). One receiver per signal does
all of it: Scrapy sends both signals for every response, a receiver costs a pydispatch call
with signature inspection each time, and separate receivers for each kind of request cost
1% of the crawl process's CPU (py-spy, bench/verify.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import StopDownload

from linkcrawler.enums import Reason
from linkcrawler.errors import FetchError

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler


READ_LIMIT = "lc_read_limit"


class PageSizeMiddleware:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes  # 0: pages have no limit (READ_LIMIT still applies)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PageSizeMiddleware:
        mw = cls(max(0, crawler.settings.getint("LINKCRAWLER_MAX_PAGE_BYTES")))
        crawler.signals.connect(mw._on_headers, signal=signals.headers_received)
        crawler.signals.connect(mw._on_bytes, signal=signals.bytes_received)
        return mw

    def _too_large(self, request: Request, size: int, how: str) -> None:
        request.meta["lc_too_large"] = (
            f"{request.url}: {how} {size} bytes, above the {self.max_bytes}-byte page limit"
        )
        raise StopDownload(fail=True)

    def _on_headers(self, headers: Any, body_length: int, request: Request, **_: Any) -> None:
        limit = request.meta.get(READ_LIMIT)
        if limit is not None:
            if limit <= 0:
                raise StopDownload(fail=False)
            return
        if self.max_bytes and isinstance(body_length, int) and body_length > self.max_bytes:
            self._too_large(request, body_length, "announced")

    def _on_bytes(self, data: bytes, request: Request, **_: Any) -> None:
        meta = request.meta
        seen = meta.get("lc_bytes_seen", 0) + len(data)
        meta["lc_bytes_seen"] = seen
        limit = meta.get(READ_LIMIT)
        if limit is not None:
            if seen > limit:
                raise StopDownload(fail=False)
        elif self.max_bytes and seen > self.max_bytes:
            self._too_large(request, seen, "received more than")

    def process_exception(self, request: Request, exception: Exception) -> None:
        detail = request.meta.get("lc_too_large")
        if detail and isinstance(exception, StopDownload):
            raise FetchError(Reason.TOO_LARGE, detail)
