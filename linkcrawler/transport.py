"""The HTTP download handler, stamping each site's pacing clock as the request really starts."""

from __future__ import annotations

from typing import Any

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler


class PacedHTTPDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler; the site's last request start is taken here, the latest
    moment we control before bytes go out, so the next request's gap is measured from it."""

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self._pacer = getattr(crawler, "lc_pacer", None)

    async def download_request(self, request: Any) -> Any:
        pacer = self._pacer or getattr(self._crawler, "lc_pacer", None)
        if pacer is not None:
            slot = pacer.slot_of(request)
            last = pacer.state(slot).last_start
            now = pacer.clock()
            if last is None or now > last:
                pacer.started(slot, now)
        return await super().download_request(request)
