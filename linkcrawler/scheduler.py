"""Per-site pacing: a Scrapy scheduler with one FIFO queue per site slot, and the pacer.

A *slot* is the registrable domain of a request's host (DESIGN §5/§8: a.x.test and b.x.test
share "x.test"; an IP address is its own slot), or `meta["lc_slot"]` when the spider sets one.
The scheduler hands a request to the engine only when its slot has nothing in flight and the
slot's next-allowed time has come, so the downloader never holds a waiting request: up to
CONCURRENT_REQUESTS requests run across many sites while a slow or populous site waits its turn.
Among ready slots the one with the most queued requests goes first (it is the critical path).

Next-allowed time = start of the slot's last request + gap, or later if a Retry-After blocks it.
gap = max(LINKCRAWLER_DELAY, the largest Crawl-delay of the slot's hosts, LATENCY_FACTOR x the
slot's smoothed response time, error backoff BACKOFF_BASE * 2**(failures-1) capped at
BACKOFF_MAX).

The pacer (`crawler.lc_pacer`, built by `Pacer.from_crawler`, shared by the scheduler and the
middlewares) holds that per-slot state. Middlewares call `block_until`, `record_failure`,
`record_success`, `set_crawl_delay`, `abandon`, `hold_origin`/`release_origin`.

In flight: a request counts from the moment the scheduler hands it out until its pass through
the downloader (middlewares included) is over, i.e. it has left the downloader's public `active`
set. `request_reached_downloader` marks the network start (the slot's start time) and
`request_left_downloader` the response time. Those two signals do NOT fire for a request that a
middleware answers, raises on or replaces in process_request (robots.txt pending, address
guard, abandoned host): such a request frees its slot without counting as a request to the site.

Abandoned slots: their queued and future requests are handed out at once, unpaced, and
`PacerGateMiddleware` ends each with the slot's FetchError, so every request still reaches its
errback with a classified reason and the site sees nothing more.

`len(scheduler)` and `pacer.pending_count()` give the number of requests held (queued or parked)
and not yet handed out; the verify spider's start() stops reading from the database while it is
above LINKCRAWLER_START_BUFFER.

Requests are kept as objects, never serialised (no JOBDIR support, no pickle). There is no dupe
filter: the spider deduplicates its own work.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from scrapy import signals

from linkcrawler.enums import Reason
from linkcrawler.errors import FetchError
from linkcrawler.urls import registrable_domain

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

# A timer that fires a hair early would make next_request find nothing ready and re-arm.
_TIMER_SLACK = 0.001


def origin_of(url: str) -> str:
    """scheme://host:port of a URL, the unit robots.txt applies to (RFC 9309 §2.3)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = {"http": 80, "https": 443}.get(scheme, 0)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


@dataclass(slots=True)
class SlotState:
    """Mutable pacing state of one site slot."""

    key: str
    last_start: float | None = None
    crawl_delay: float = 0.0
    latency: float | None = None  # smoothed seconds from reaching the downloader to leaving it
    failures: int = 0  # consecutive failed attempts, reset by a success
    answered: bool = False  # the site gave at least one non-failure response this run
    blocked_until: float = 0.0
    abandoned: FetchError | None = None


class PacerListener(Protocol):
    def slot_changed(self, slot: str) -> None: ...

    def origin_released(self, origin: str) -> None: ...

    def pending_count(self) -> int: ...


@dataclass(frozen=True)
class PacerConfig:
    delay: float
    max_crawl_delay: float
    latency_factor: float
    backoff_base: float
    backoff_max: float
    # Weight of the newest response time in the smoothed latency.
    latency_alpha: float = 0.5
    # Added to every non-zero gap. The slot's start is stamped once the request's bytes have
    # been handed to the socket (linkcrawler.transport), so this only covers how unevenly the
    # site itself gets round to reading two requests.
    start_slack: float = 0.003

    @classmethod
    def from_settings(cls, settings: Any) -> PacerConfig:
        return cls(
            delay=max(0.0, settings.getfloat("LINKCRAWLER_DELAY")),
            max_crawl_delay=settings.getfloat("LINKCRAWLER_MAX_CRAWL_DELAY"),
            latency_factor=max(0.0, settings.getfloat("LINKCRAWLER_LATENCY_FACTOR", 2.0)),
            backoff_base=max(0.0, settings.getfloat("LINKCRAWLER_BACKOFF_BASE")),
            backoff_max=max(0.0, settings.getfloat("LINKCRAWLER_BACKOFF_MAX")),
        )


class Pacer:
    """Per-slot pacing state shared by the scheduler and the downloader middlewares.

    Times are `clock()` values (time.monotonic by default).
    """

    def __init__(self, config: PacerConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.clock = clock
        self._slots: dict[str, SlotState] = {}
        self._slot_of_host: dict[str, str] = {}
        self._held: set[str] = set()
        self.listener: PacerListener | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Pacer:
        """The crawler's one pacer (created on first use, by whichever component comes first)."""
        pacer = getattr(crawler, "lc_pacer", None)
        if pacer is None:
            pacer = cls(PacerConfig.from_settings(crawler.settings))
            crawler.lc_pacer = pacer  # type: ignore[attr-defined]
        return pacer

    # --- slots -------------------------------------------------------------------------------

    def slot_of(self, request: Request) -> str:
        """The slot key of a request: meta["lc_slot"] if the spider set one, else its site."""
        explicit = request.meta.get("lc_slot")
        return str(explicit) if explicit else self.slot_of_url(request.url)

    def slot_of_url(self, url: str) -> str:
        host = (urlsplit(url).hostname or "").lower()
        slot = self._slot_of_host.get(host)
        if slot is None:
            try:
                slot = registrable_domain(host) or host
            except Exception:  # noqa: BLE001 - a weird host still needs some slot
                slot = host
            if len(self._slot_of_host) < 100_000:
                self._slot_of_host[host] = slot
        return slot

    def state(self, slot: str) -> SlotState:
        st = self._slots.get(slot)
        if st is None:
            st = self._slots[slot] = SlotState(slot)
        return st

    def gap(self, slot: str) -> float:
        st = self.state(slot)
        cfg = self.config
        gap = max(cfg.delay, st.crawl_delay)
        if st.latency is not None:
            gap = max(gap, cfg.latency_factor * st.latency)
        if st.failures:
            gap = max(gap, min(cfg.backoff_max, cfg.backoff_base * 2 ** (st.failures - 1)))
        return gap

    def ready_at(self, slot: str) -> float:
        """Earliest clock() at which the slot may start its next request."""
        st = self.state(slot)
        if st.abandoned is not None:
            return -math.inf
        if st.last_start is None:
            return st.blocked_until
        gap = self.gap(slot)
        start = st.last_start + gap + (self.config.start_slack if gap > 0 else 0.0)
        return max(start, st.blocked_until)

    # --- events reported by the scheduler ------------------------------------------------------

    def started(self, slot: str, when: float | None = None) -> None:
        self.state(slot).last_start = self.clock() if when is None else when

    def record_latency(self, slot: str, seconds: float) -> None:
        st = self.state(slot)
        a = self.config.latency_alpha
        st.latency = seconds if st.latency is None else a * seconds + (1 - a) * st.latency

    # --- events reported by the middlewares ----------------------------------------------------

    def record_success(self, slot: str, latency: float | None = None, *, answered: bool = True) -> None:
        st = self.state(slot)
        st.failures = 0
        st.answered = st.answered or answered
        if latency is not None:
            self.record_latency(slot, latency)

    def record_failure(self, slot: str) -> int:
        """Count a failed attempt (5xx, 429, timeout...); returns consecutive failures so far."""
        st = self.state(slot)
        st.failures += 1
        return st.failures

    def block_until(self, slot: str, when: float) -> None:
        """No request to the slot starts before clock() == when (Retry-After)."""
        st = self.state(slot)
        if when > st.blocked_until:
            st.blocked_until = when
            self._changed(slot)

    def set_crawl_delay(self, slot: str, seconds: float) -> bool:
        """Apply a host's Crawl-delay to its slot; False (nothing applied) if above the cap."""
        if not math.isfinite(seconds) or seconds < 0:
            return True
        if seconds > self.config.max_crawl_delay:
            return False
        st = self.state(slot)
        st.crawl_delay = max(st.crawl_delay, seconds)
        return True

    def abandon(self, slot: str, reason: Reason, detail: str) -> FetchError:
        """Give a slot up for the run: its queued and future requests fail with this error."""
        st = self.state(slot)
        if st.abandoned is None:
            st.abandoned = FetchError(reason, detail)
            logger.warning("Giving up %s for this run: %s", slot, detail)
            self._changed(slot)
        return st.abandoned

    def abandoned(self, slot: str) -> FetchError | None:
        st = self._slots.get(slot)
        return None if st is None else st.abandoned

    # --- origins waiting for their robots.txt --------------------------------------------------

    def hold_origin(self, origin: str) -> None:
        """Park requests to `origin` (scheme://host:port) in the scheduler until released."""
        self._held.add(origin)

    def release_origin(self, origin: str) -> None:
        if origin in self._held:
            self._held.discard(origin)
            if self.listener is not None:
                self.listener.origin_released(origin)

    def is_held(self, origin: str) -> bool:
        return origin in self._held

    def pending_count(self) -> int:
        """Requests held by the scheduler and not yet handed out (0 without our scheduler)."""
        return self.listener.pending_count() if self.listener is not None else 0

    def _changed(self, slot: str) -> None:
        if self.listener is not None:
            self.listener.slot_changed(slot)


@dataclass(slots=True)
class _Handout:
    request: Request
    slot: str
    reached: bool = False
    started: float = 0.0


@dataclass(slots=True)
class _Queues:
    by_slot: dict[str, deque[Request]] = field(default_factory=dict)
    parked: defaultdict[str, list[Request]] = field(default_factory=lambda: defaultdict(list))
    queued: int = 0
    parked_count: int = 0


class PoliteScheduler:
    """SCHEDULER: per-slot FIFO queues, one request in flight per slot, paced by the pacer."""

    def __init__(self, pacer: Pacer, crawler: Crawler | None = None) -> None:
        self.pacer = pacer
        self.crawler = crawler
        self._q = _Queues()
        self._busy: dict[str, _Handout] = {}
        self._handouts: dict[int, _Handout] = {}
        # Each idle slot with queued requests has one live placement, in _ready or _timed; a
        # placement is live while its token is the slot's current one (older ones are skipped).
        self._token: dict[str, int] = {}
        self._ready: list[tuple[int, int, str]] = []  # (-queued, token, slot)
        self._timed: list[tuple[float, int, str]] = []  # (ready_at, token, slot)
        self._seq = itertools.count()
        self._timer: Any = None
        self._timer_at = math.inf
        self._warned_wake = False
        pacer.listener = self

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PoliteScheduler:
        scheduler = cls(Pacer.from_crawler(crawler), crawler)
        crawler.signals.connect(scheduler._on_reached, signal=signals.request_reached_downloader)
        crawler.signals.connect(scheduler._on_left, signal=signals.request_left_downloader)
        return scheduler

    # --- BaseScheduler interface ---------------------------------------------------------------

    def open(self, spider: Spider) -> None:
        return None

    def close(self, reason: str) -> None:
        self._cancel_timer()
        if len(self):
            logger.info("Scheduler closed (%s) with %d requests not handed out", reason, len(self))
        return None

    def queued_in_slot(self, slot: str) -> int:
        """Requests of `slot` waiting their turn (not counting the one in flight)."""
        queue = self._q.by_slot.get(slot)
        return len(queue) if queue else 0

    def __len__(self) -> int:
        return self._q.queued + self._q.parked_count

    def pending_count(self) -> int:
        return len(self)

    def has_pending_requests(self) -> bool:
        return len(self) > 0

    def enqueue_request(self, request: Request) -> bool:
        meta = request.meta
        front = bool(meta.pop("lc_front", False)) or meta.get("lc_kind") == "robots"
        if meta.get("lc_kind") != "robots" and self.pacer._held:
            origin = origin_of(request.url)
            if self.pacer.is_held(origin):
                self._q.parked[origin].append(request)
                self._q.parked_count += 1
                return True
        self._push(self.pacer.slot_of(request), [request], front=front)
        return True

    def next_request(self) -> Request | None:
        self._reap()
        now = self.pacer.clock()
        while self._timed and self._timed[0][0] <= now:
            _, token, slot = heapq.heappop(self._timed)
            if self._token.get(slot) == token:
                self._place(slot, now, token)
        while self._ready:
            _, token, slot = heapq.heappop(self._ready)
            if self._token.get(slot) != token:
                continue
            if self.pacer.ready_at(slot) > now:  # blocked since it was placed
                self._place(slot, now, token)
                continue
            return self._hand_out(slot)
        self._arm_timer()
        return None

    # --- pacer listener ------------------------------------------------------------------------

    def slot_changed(self, slot: str) -> None:
        if slot in self._q.by_slot and slot not in self._busy:
            self._place(slot, self.pacer.clock())
        elif self.pacer.abandoned(slot) is not None and slot in self._q.by_slot:
            self._place(slot, self.pacer.clock())
        self._wake_engine()

    def origin_released(self, origin: str) -> None:
        waiting = self._q.parked.pop(origin, [])
        self._q.parked_count -= len(waiting)
        by_slot: dict[str, list[Request]] = {}
        for request in waiting:
            by_slot.setdefault(self.pacer.slot_of(request), []).append(request)
        for slot, requests in by_slot.items():
            self._push(slot, requests, front=True)
        self._wake_engine()

    # --- internals -----------------------------------------------------------------------------

    def _push(self, slot: str, requests: list[Request], *, front: bool) -> None:
        queue = self._q.by_slot.get(slot)
        if queue is None:
            queue = self._q.by_slot[slot] = deque()
        if front:
            queue.extendleft(reversed(requests))
        else:
            queue.extend(requests)
        self._q.queued += len(requests)
        if slot not in self._busy or self.pacer.abandoned(slot) is not None:
            self._place(slot, self.pacer.clock())
        self._compact()

    def _place(self, slot: str, now: float, token: int | None = None) -> None:
        """(Re)file an idle slot that has queued requests under its next-allowed time."""
        queue = self._q.by_slot.get(slot)
        if not queue:
            self._token.pop(slot, None)
            return
        if token is None:
            token = next(self._seq)
        self._token[slot] = token
        at = self.pacer.ready_at(slot)
        if at <= now:
            heapq.heappush(self._ready, (-len(queue), token, slot))
        else:
            heapq.heappush(self._timed, (at, token, slot))

    def _hand_out(self, slot: str) -> Request:
        queue = self._q.by_slot[slot]
        request = queue.popleft()
        self._q.queued -= 1
        self._token.pop(slot, None)
        if self.pacer.abandoned(slot) is None:
            handout = _Handout(request, slot)
            self._busy[slot] = handout
            self._handouts[id(request)] = handout
        elif queue:
            self._place(slot, self.pacer.clock())  # abandoned: the rest go out at once
        if not queue:
            del self._q.by_slot[slot]
        return request

    def _release(self, handout: _Handout) -> None:
        self._handouts.pop(id(handout.request), None)
        if self._busy.get(handout.slot) is handout:
            del self._busy[handout.slot]
            self._place(handout.slot, self.pacer.clock())

    def _active(self) -> Any:
        engine = getattr(self.crawler, "engine", None)
        return getattr(getattr(engine, "downloader", None), "active", None)

    def _reap(self) -> None:
        """Release hand-outs whose pass through the downloader (middlewares included) is over.

        A slot stays busy until then, not just until request_left_downloader: the response
        still has to pass the retry middleware, which may block or back off the slot, and no
        other request of the slot may start before that is known.
        """
        active = self._active()
        if active is None:
            return
        for handout in [h for h in self._handouts.values() if h.request not in active]:
            self._release(handout)

    def _on_reached(self, request: Request, spider: Spider | None = None) -> None:
        handout = self._handouts.get(id(request))
        if handout is not None and handout.request is request:
            handout.reached = True
            handout.started = self.pacer.clock()
            self.pacer.started(handout.slot, handout.started)

    def _on_left(self, request: Request, spider: Spider | None = None) -> None:
        handout = self._handouts.get(id(request))
        if handout is not None and handout.request is request and handout.reached:
            self.pacer.record_latency(handout.slot, self.pacer.clock() - handout.started)
            if self._active() is None:  # no engine to watch (unit tests): end here
                self._release(handout)

    def _arm_timer(self) -> None:
        while self._timed and self._token.get(self._timed[0][2]) != self._timed[0][1]:
            heapq.heappop(self._timed)
        if not self._timed:
            return
        at = self._timed[0][0]
        if self._timer is not None and self._timer.active() and self._timer_at <= at:
            return
        self._cancel_timer()
        from twisted.internet import reactor

        self._timer_at = at
        delay = max(0.0, at - self.pacer.clock()) + _TIMER_SLACK
        self._timer = reactor.callLater(delay, self._on_timer)  # type: ignore[attr-defined]

    def _cancel_timer(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        self._timer_at = math.inf

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = math.inf
        self._wake_engine()

    def _wake_engine(self) -> None:
        """Ask the engine to call next_request soon.

        The engine only polls the scheduler after a download ends, after a request is crawled,
        and on a 5 s heartbeat. Its "call _start_scheduled_requests soon" hook is the
        CallLaterOnce at engine._slot.nextcall; there is no public API for it, so we reach it
        defensively: without it pacing stays correct, only wake-ups fall back to the heartbeat.
        """
        engine = getattr(self.crawler, "engine", None)
        nextcall = getattr(getattr(engine, "_slot", None), "nextcall", None)
        schedule = getattr(nextcall, "schedule", None)
        if callable(schedule):
            schedule()
        elif not self._warned_wake and engine is not None:
            self._warned_wake = True
            logger.warning("Cannot wake the engine; waits end on its 5 s heartbeat instead")

    def _compact(self) -> None:
        # Superseded placements pile up when populous slots keep growing; rebuild occasionally.
        live = len(self._token)
        if len(self._ready) + len(self._timed) > 4 * live + 256:
            self._ready = [e for e in self._ready if self._token.get(e[2]) == e[1]]
            self._timed = [e for e in self._timed if self._token.get(e[2]) == e[1]]
            heapq.heapify(self._ready)
            heapq.heapify(self._timed)


class PacerGateMiddleware:
    """Downloader middleware: requests to an abandoned slot end at once with its FetchError.

    Sits before robots.txt handling so an abandoned site gets no robots.txt request either.
    """

    def __init__(self, pacer: Pacer) -> None:
        self.pacer = pacer

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PacerGateMiddleware:
        return cls(Pacer.from_crawler(crawler))

    def process_request(self, request: Request) -> None:
        error = self.pacer.abandoned(self.pacer.slot_of(request))
        if error is not None:
            raise FetchError(error.reason, error.detail)

