"""robots.txt per RFC 9309, fetched through the scheduler like any other request.

`RobotsTxtMiddleware` (downloader middleware) gates every request on the robots.txt of its
origin (scheme://host:port), fetched once per origin per run:

- The first request to an origin is answered in process_request with a robots.txt Request that
  carries the original in `meta["lc_robots_waiting"]`; it goes through the scheduler, so it is
  paced and carries the User-Agent like any request. Until it is resolved the origin is held:
  the scheduler parks further requests to it (no polling, no extra robots.txt fetches).
- Outcome (RFC 9309 §2.3.1): 2xx -> the rules apply (the first LINKCRAWLER_ROBOTS_MAX_BYTES
  bytes are read; the download stops there); redirects are followed up to
  LINKCRAWLER_ROBOTS_MAX_REDIRECTS hops (by the redirect middleware through
  `meta["lc_max_redirects"]`, or here if none followed them), also across hosts; more, or a
  loop -> allow all; 4xx other than 429 -> allow all; 429, 5xx, any other status, timeouts,
  network and DNS errors -> nothing of the origin is fetched this run: every request to it ends
  with FetchError(ROBOTS_UNAVAILABLE). A robots.txt whose own address is refused by the address
  guard makes the origin's requests end with that BLOCKED_ADDRESS error.
- Rules are evaluated for LINKCRAWLER_ROBOTS_AGENT (the product token of our User-Agent) to gate
  fetching -> FetchError(ROBOTS_DISALLOWED), and for Googlebot: every request that passes the
  middleware gets `meta["lc_googlebot_allowed"]` (True/False; None when robots.txt was
  unavailable) for its own URL, also when it is then refused. `googlebot_allowed(crawler, url)`
  answers the same for any URL of an origin already resolved.
- Crawl-delay for our agent goes to the pacer (the largest of a slot's hosts applies); values
  that are not finite non-negative numbers (`abc`, `-5`, `nan`) are ignored; one above
  LINKCRAWLER_MAX_CRAWL_DELAY makes every request to the origin end with FetchError(BLOCKED).
- robots.txt requests (meta["lc_kind"] == "robots") are never subject to robots rules and are
  not retried (one answer per run; an error means "disallow", RFC 9309 §2.3.1.4). Their errback
  is this middleware's, so an outcome that bypasses process_response/process_exception (an
  exception raised in an inner middleware's process_response) still resolves the origin.

Decoding (ROB-4): a UTF-8 BOM is dropped; the body is decoded as UTF-8 with undecodable bytes
replaced; CR, LF and CRLF all end lines; a NUL byte is kept, so a directive whose name contains
one is ignored and a path containing one matches only that literal path; a 100k-character line
is just a long line; an HTML page served with 200 has no valid directive and allows all; an
empty file allows all. A file cut at the size limit loses its last, partial line.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from protego import Protego
from scrapy import Request

from linkcrawler.enums import Reason
from linkcrawler.lru import LruCache
from linkcrawler.errors import FetchError, reason_for_exception
from linkcrawler.scheduler import Pacer, origin_of
from linkcrawler.sizelimit import READ_LIMIT

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

GOOGLEBOT = "Googlebot"
_UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class RobotsRules:
    """What robots.txt says for one origin this run."""

    origin: str
    source: str  # how the answer came about, for details and logs
    parser: Protego | None = None  # None: no rules (allow all), or see `error`
    error: FetchError | None = None  # every request to the origin ends with this

    def allows(self, url: str, agent: str) -> bool | None:
        if self.error is not None and self.error.reason is not Reason.BLOCKED:
            return None
        if self.parser is None:
            return True
        return bool(self.parser.can_fetch(url, agent))

    def crawl_delay(self, agent: str) -> float | None:
        if self.parser is None:
            return None
        value = self.parser.crawl_delay(agent)
        if value is None:
            return None
        value = float(value)
        return value if math.isfinite(value) and value >= 0 else None


def parse_robots(body: bytes, max_bytes: int) -> Protego:
    """Parse the first max_bytes of a robots.txt body (see the module docstring, ROB-4)."""
    if body.startswith(_UTF8_BOM):
        body = body[len(_UTF8_BOM):]
    if len(body) > max_bytes:
        body = body[:max_bytes]
        cut = max(body.rfind(b"\n"), body.rfind(b"\r"))
        body = body[: cut + 1] if cut >= 0 else b""
    return Protego.parse(body.decode("utf-8", errors="replace"))


def robots_url(url: str) -> str:
    origin = origin_of(url)
    scheme, rest = origin.split("://", 1)
    default = {"http": ":80", "https": ":443"}.get(scheme)
    if default and rest.endswith(default):
        rest = rest[: -len(default)]
    return f"{scheme}://{rest}/robots.txt"


def googlebot_allowed(crawler: Crawler, url: str) -> bool | None:
    """Whether robots.txt lets Googlebot fetch `url`: None if unknown or unavailable."""
    mw = getattr(crawler, "lc_robots", None)
    return None if mw is None else mw.googlebot_allowed(url)


class RobotsTxtMiddleware:
    """Downloader middleware: RFC 9309 for our agent, Googlebot's verdict in meta."""

    def __init__(
        self,
        pacer: Pacer,
        *,
        agent: str,
        max_bytes: int,
        max_redirects: int,
        cache_origins: int = 10_000,
    ) -> None:
        self.pacer = pacer
        self.agent = agent
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        # An origin dropped from here has its robots.txt fetched again when its next request comes.
        self._rules: LruCache[str, RobotsRules] = LruCache(cache_origins)
        self._pending: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RobotsTxtMiddleware:
        settings = crawler.settings
        agent = settings.get("LINKCRAWLER_ROBOTS_AGENT") or str(
            settings.get("USER_AGENT") or "linkcrawler"
        ).split("/", 1)[0]
        mw = cls(
            Pacer.from_crawler(crawler),
            agent=agent,
            max_bytes=settings.getint("LINKCRAWLER_ROBOTS_MAX_BYTES"),
            max_redirects=settings.getint("LINKCRAWLER_ROBOTS_MAX_REDIRECTS"),
            cache_origins=settings.getint("LINKCRAWLER_ROBOTS_CACHE_ORIGINS"),
        )
        crawler.lc_robots = mw  # type: ignore[attr-defined]
        return mw

    # --- public queries ------------------------------------------------------------------------

    def rules_for(self, url: str) -> RobotsRules | None:
        return self._rules.peek(origin_of(url))

    def googlebot_allowed(self, url: str) -> bool | None:
        rules = self.rules_for(url)
        return None if rules is None else rules.allows(url, GOOGLEBOT)

    # --- downloader middleware -----------------------------------------------------------------

    def process_request(self, request: Request) -> Request | None:
        if request.meta.get("lc_kind") == "robots":
            return None
        if not request.url.lower().startswith(("http://", "https://")):
            return None  # the address guard refuses other schemes; nothing to gate here
        origin = origin_of(request.url)
        carried = request.meta.pop("lc_robots_rules", None)
        rules = self._rules.get(origin)
        if rules is None and carried is not None and carried.origin == origin:
            rules = carried
        if rules is None:
            if origin in self._pending:
                # Its robots.txt is on the way: back to the scheduler, which parks it.
                request.meta["lc_front"] = True
                return request
            return self._fetch_robots(origin, request)
        self._gate(rules, request)
        return None

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("lc_kind") != "robots" or "lc_robots_origin" not in request.meta:
            return response
        status = response.status
        origin = request.meta["lc_robots_origin"]
        if 300 <= status < 400 and response.headers.get(b"Location"):
            # No redirect middleware followed it: follow it here, with the same limits.
            from linkcrawler.redirects import next_hop

            location = response.headers[b"Location"].decode("utf-8", "replace")
            try:
                return next_hop(request, location, status, max_redirects=self.max_redirects)
            except FetchError as exc:
                return self._resolved(request, self._from_error(request, exc))
        where = f"robots.txt {response.url}"
        if 200 <= status < 300:
            try:
                parser = parse_robots(response.body, self.max_bytes)
            except Exception as exc:  # noqa: BLE001 - a parser crash must not allow all
                logger.warning("Cannot parse %s: %r", where, exc)
                rules = self._unavailable(origin, f"{where} could not be parsed: {exc!r}")
            else:
                rules = RobotsRules(origin, f"{where} answered {status}", parser=parser)
        elif 400 <= status < 500 and status != 429:
            rules = RobotsRules(origin, f"{where} answered {status}: no rules (RFC 9309)")
        else:
            rules = self._unavailable(origin, f"{where} answered {status}")
        return self._resolved(request, rules)

    def process_exception(self, request: Request, exception: Exception) -> Request | None:
        if request.meta.get("lc_kind") != "robots" or "lc_robots_origin" not in request.meta:
            return None
        return self._resolved(request, self._from_error(request, exception))

    # --- internals -----------------------------------------------------------------------------

    def _fetch_robots(self, origin: str, request: Request) -> Request:
        self._pending.add(origin)
        self.pacer.hold_origin(origin)
        request.meta["lc_front"] = True
        return Request(
            robots_url(request.url),
            meta={
                "lc_kind": "robots",
                "lc_robots_origin": origin,
                "lc_robots_waiting": request,
                "lc_max_redirects": self.max_redirects,
                # Enough read past this: RFC 9309 asks for at least 500 KiB; the rest is never
                # parsed (the size-limit middleware stops the download there, quietly).
                READ_LIMIT: self.max_bytes + 1,
                "dont_retry": True,
                "handle_httpstatus_all": True,
            },
            # Exceptions raised in an inner middleware's process_response (the redirect
            # middleware's "too many redirects") skip every process_exception and land here.
            errback=self._robots_failed,
            dont_filter=True,
            priority=1000,
        )

    def _robots_failed(self, failure: Any) -> list[Request]:
        request = failure.request
        return [self._resolved(request, self._from_error(request, failure.value))]

    def _gate(self, rules: RobotsRules, request: Request) -> None:
        request.meta["lc_googlebot_allowed"] = rules.allows(request.url, GOOGLEBOT)
        if rules.error is not None:
            raise FetchError(rules.error.reason, rules.error.detail)
        if not rules.allows(request.url, self.agent):
            raise FetchError(
                Reason.ROBOTS_DISALLOWED,
                f"{rules.source}: disallows {request.url} for {self.agent}",
            )

    def _unavailable(self, origin: str, detail: str) -> RobotsRules:
        error = FetchError(Reason.ROBOTS_UNAVAILABLE, f"{detail}: nothing of {origin} is fetched")
        return RobotsRules(origin, detail, error=error)

    def _from_error(self, request: Request, exc: BaseException) -> RobotsRules:
        origin = request.meta["lc_robots_origin"]
        where = f"robots.txt {request.url}"
        if isinstance(exc, FetchError):
            if exc.reason in (Reason.TOO_MANY_REDIRECTS, Reason.REDIRECT_LOOP, Reason.INVALID_URL):
                # RFC 9309 §2.3.1.2: a robots.txt not reached through redirects is "unavailable".
                return RobotsRules(origin, f"{where}: {exc.detail}; no rules (RFC 9309)")
            if origin_of(request.url) == origin and exc.reason in (
                Reason.BLOCKED_ADDRESS,
                Reason.BLOCKED,
                Reason.INVALID_URL,
            ):
                return RobotsRules(origin, f"{where}: {exc.detail}", error=exc)
        from linkcrawler.addressguard import refusal_for

        refused = refusal_for(request, exc)
        if refused is not None and origin_of(request.url) == origin:
            return RobotsRules(origin, f"{where}: {refused.detail}", error=refused)
        reason, detail = reason_for_exception(exc)
        if reason is Reason.TLS_ERROR and origin_of(request.url) == origin:
            # Nothing of the origin is fetched either way (RFC 9309); a broken certificate is
            # the actionable cause to report, not "robots.txt unavailable".
            return RobotsRules(origin, f"{where}: {detail}", error=FetchError(reason, f"{where}: {detail}"))
        return self._unavailable(origin, f"{where} unreachable ({detail})")

    def _resolved(self, request: Request, rules: RobotsRules) -> Request:
        origin = rules.origin
        delay = rules.crawl_delay(self.agent)
        if delay is not None and not self.pacer.set_crawl_delay(
            self.pacer.slot_of_url(origin), delay
        ):
            rules = RobotsRules(
                origin,
                rules.source,
                parser=rules.parser,
                error=FetchError(
                    Reason.BLOCKED,
                    f"{rules.source}: Crawl-delay {delay:g} s is above the "
                    f"{self.pacer.config.max_crawl_delay:g} s we wait; {origin} skipped",
                ),
            )
        self._rules.put(origin, rules)
        self._pending.discard(origin)
        self.pacer.release_origin(origin)
        logger.debug("robots.txt for %s: %s", origin, rules.source)
        waiting: Request = request.meta["lc_robots_waiting"]
        waiting.meta["lc_front"] = True
        # The request that asked goes through with these rules even if a full cache has
        # dropped them by the time it comes back: every robots.txt fetch moves one page on.
        waiting.meta["lc_robots_rules"] = rules
        return waiting
