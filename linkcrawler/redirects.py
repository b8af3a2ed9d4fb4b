"""Following redirects hop by hop, recording each hop, and ending loops with a result.

Stock Scrapy drops a looping request without calling its callback or errback, and its meta
refresh handling only looks at the first 4096 characters. Here every hop (HTTP 3xx, or a meta
refresh the spider found) becomes a new request through the scheduler, so robots.txt, pacing
and the address guard apply to each hop, and the chain travels in `meta["lc_hops"]` as a list
of {"url", "status"} dicts. A loop or an overlong chain raises `FetchError`, which reaches the
request's errback: every fetch ends in exactly one classified outcome.

Meta keys:
- lc_hops: hops before the current request's URL (list of {"url": str, "status": int}).
- lc_max_redirects: per-request limit (robots.txt fetches use 5, RFC 9309); default is the
  LINKCRAWLER_MAX_REDIRECTS setting.
- lc_no_redirect: hand 3xx responses to the callback as they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from w3lib.url import safe_url_string

from linkcrawler.enums import Reason
from linkcrawler.errors import FetchError
from linkcrawler.extraction import resolve_href

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def _canonical(url: str) -> str:
    # Loop detection must not be fooled by a fragment or a trailing "#".
    return url.split("#", 1)[0]


def next_hop(request: Request, location: str, status: int, *, max_redirects: int) -> Request:
    """The request for the next hop of `request`'s chain, or FetchError if it must stop."""
    target = resolve_href(request.url, location)
    if target is None:
        raise FetchError(
            Reason.INVALID_URL, f"redirect from {request.url} to a non-http(s) URL: {location[:200]!r}"
        )
    target = safe_url_string(target)
    hops: list[dict[str, Any]] = [*request.meta.get("lc_hops", ()), {"url": request.url, "status": status}]
    seen = {_canonical(hop["url"]) for hop in hops}
    if _canonical(target) in seen:
        raise FetchError(
            Reason.REDIRECT_LOOP,
            f"redirect loop: {' -> '.join(h['url'] for h in hops)} -> {target}",
        )
    if len(hops) > max_redirects:
        raise FetchError(
            Reason.TOO_MANY_REDIRECTS, f"more than {max_redirects} redirects from {hops[0]['url']}"
        )
    meta = dict(request.meta)
    meta["lc_hops"] = hops
    # A new hop starts with a fresh retry budget.
    meta.pop("lc_attempts", None)
    for key in ("download_slot", "lc_slot", "lc_bytes_seen"):
        meta.pop(key, None)
    # HEAD stays HEAD (a status check must not turn into a download); anything else is
    # re-requested with GET, the way browsers follow 301/302/303 (we never send bodies).
    method = "HEAD" if request.method == "HEAD" else "GET"
    return request.replace(url=target, method=method, body=b"", meta=meta, dont_filter=True)


class RedirectChainMiddleware:
    """Downloader middleware following HTTP redirects with every hop recorded."""

    def __init__(self, max_redirects: int) -> None:
        self.max_redirects = max_redirects

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedirectChainMiddleware:
        return cls(crawler.settings.getint("LINKCRAWLER_MAX_REDIRECTS"))

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status not in REDIRECT_STATUSES or request.meta.get("lc_no_redirect"):
            return response
        location = response.headers.get(b"Location")
        if not location:
            return response  # a 3xx without Location is classified by the spider
        text = location.decode("utf-8", "replace") if isinstance(location, bytes) else location
        limit = request.meta.get("lc_max_redirects", self.max_redirects)
        return next_hop(request, text, response.status, max_redirects=limit)
