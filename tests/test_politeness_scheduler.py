"""The scheduler and pacer without a reactor: slot choice, gaps, parking, abandonment."""

from __future__ import annotations

from scrapy import Request

from linkcrawler.enums import Reason
from linkcrawler.scheduler import Pacer, PacerConfig, PoliteScheduler, origin_of


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(delay: float = 1.0) -> tuple[PoliteScheduler, Pacer, Clock]:
    clock = Clock()
    pacer = Pacer(PacerConfig(delay, 30.0, 2.0, 1.0, 8.0, start_slack=0.0), clock)
    return PoliteScheduler(pacer), pacer, clock


def fetch(s: PoliteScheduler, pacer: Pacer, clock: Clock, latency: float = 0.01) -> Request | None:
    """Hand out one request and run it through the signals as the downloader would."""
    request = s.next_request()
    if request is not None and pacer.abandoned(pacer.slot_of(request)) is None:
        s._on_reached(request)
        clock.now += latency
        s._on_left(request)
    return request


def test_slot_is_the_registrable_domain_or_lc_slot() -> None:
    _, pacer, _ = make()
    assert pacer.slot_of(Request("http://a.x.test/p")) == pacer.slot_of(Request("http://b.x.test/"))
    assert pacer.slot_of(Request("http://127.0.0.1:8080/")) == "127.0.0.1"
    assert pacer.slot_of(Request("http://a.test/", meta={"lc_slot": "mine"})) == "mine"


def test_one_in_flight_and_gap_per_slot_others_go_on() -> None:
    s, pacer, clock = make(delay=1.0)
    for url in ("http://a.test/1", "http://a.test/2", "http://b.test/1"):
        s.enqueue_request(Request(url))
    assert len(s) == 3
    first = s.next_request()
    assert first is not None and first.url == "http://a.test/1"  # most queued first
    s._on_reached(first)
    second = s.next_request()
    assert second is not None and second.url == "http://b.test/1"  # a.test is busy
    assert s.next_request() is None
    s._on_left(first)
    assert s.next_request() is None  # a.test's gap has not passed
    clock.now += 1.0
    third = s.next_request()
    assert third is not None and third.url == "http://a.test/2"
    assert len(s) == 0 and not s.has_pending_requests()


def test_gap_terms() -> None:
    _, pacer, _ = make(delay=0.5)
    assert pacer.gap("x") == 0.5
    pacer.record_latency("x", 1.0)
    assert pacer.gap("x") == 2.0  # latency factor 2
    pacer.record_latency("x", 0.0)
    assert pacer.gap("x") == 1.0  # smoothed
    assert pacer.set_crawl_delay("x", 3.0) and pacer.gap("x") == 3.0
    assert not pacer.set_crawl_delay("x", 31.0)  # above the cap: refused, not applied
    for _ in range(5):
        pacer.record_failure("y")
    assert pacer.gap("y") == 8.0  # 1 * 2**4 = 16, capped at 8
    pacer.record_success("y")
    assert pacer.gap("y") == 0.5


def test_block_until_delays_the_slot() -> None:
    s, pacer, clock = make(delay=0.0)
    s.enqueue_request(Request("http://a.test/1"))
    pacer.block_until("a.test", clock.now + 3)
    assert s.next_request() is None
    clock.now += 3
    assert s.next_request() is not None


def test_abandoned_slot_hands_everything_out_at_once() -> None:
    s, pacer, clock = make(delay=10.0)
    for i in range(3):
        s.enqueue_request(Request(f"http://a.test/{i}"))
    assert fetch(s, pacer, clock) is not None
    assert s.next_request() is None  # 10 s gap
    pacer.abandon("a.test", Reason.BLOCKED, "gone")
    out = [s.next_request(), s.next_request()]
    assert all(r is not None for r in out) and len(s) == 0
    s.enqueue_request(Request("http://a.test/later"))
    assert s.next_request() is not None


def test_held_origin_parks_requests_until_released() -> None:
    s, pacer, clock = make(delay=0.0)
    origin = origin_of("http://a.test/x")
    assert origin == "http://a.test:80"
    pacer.hold_origin(origin)
    s.enqueue_request(Request("http://a.test/1"))
    s.enqueue_request(Request("http://a.test/robots.txt", meta={"lc_kind": "robots"}))
    assert len(s) == 2
    robots = fetch(s, pacer, clock)
    assert robots is not None and robots.meta["lc_kind"] == "robots"
    assert s.next_request() is None  # the page is parked
    pacer.release_origin(origin)
    clock.now += 1  # past the gap after the robots.txt request
    page = s.next_request()
    assert page is not None and page.url == "http://a.test/1"
