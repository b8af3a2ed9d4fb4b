"""POL-5, POL-6, POL-7 (Retry-After, giving a site up, backoff), measured at the loopback server.

Negative controls swap our retry middleware for Scrapy's stock one (which ignores Retry-After
and retries at once).
"""

from __future__ import annotations

import email.utils
import math
import time
from typing import Any

import pytest

from linkcrawler.retry import parse_retry_after
from tests.crawl_harness import run_crawl
from tests.loopback import LoopbackServer, Replies, Reply, RequestRecord

pytestmark = pytest.mark.slow

STOCK_RETRY = {
    "DOWNLOADER_MIDDLEWARES": {"linkcrawler.retry.PoliteRetryMiddleware": None},
    "RETRY_ENABLED": True,
    "RETRY_TIMES": 4,
}


def page_starts(server: LoopbackServer, host: str) -> list[float]:
    return sorted(r.start for r in server.requests(host) if r.path != "/robots.txt")


def gaps_of(starts: list[float]) -> list[float]:
    return [b - a for a, b in zip(starts, starts[1:], strict=False)]


# --- unit: Retry-After values ----------------------------------------------------------------


def test_parse_retry_after_forms() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after(b"3") == 3.0
    assert parse_retry_after(" 120 ") == 120.0
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(date, now=now) == pytest.approx(30, abs=1)
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0
    for bad in (None, b"", b"soon", b"-5", b"1.5", b"Mon, 99 Foo 2020"):
        assert parse_retry_after(bad, now=now) is None


# --- POL-5: Retry-After 3 s, seconds and HTTP-date; other sites unaffected ----------------------


def _http_date_in_3s(record: RequestRecord) -> Reply:
    # Rounded up to the next whole second so the date means at least 3 s from now.
    when = email.utils.formatdate(math.ceil(time.time()) + 3, usegmt=True)
    return Reply(503, "busy", headers={"Retry-After": when})


def pol5(settings: dict[str, Any]) -> tuple[float, float, list[float], dict[str, Any]]:
    with LoopbackServer() as server:
        server.route("*", "/robots.txt", Reply(404))
        server.route(
            "sec.test", "/p", Replies(Reply(429, headers={"Retry-After": "3"}), Reply(200, "ok"))
        )
        server.route("date.test", "/p", Replies(_http_date_in_3s, Reply(200, "ok")))
        others = [server.url("other.test", f"/p{i}") for i in range(8)]
        urls = [server.url("sec.test", "/p"), server.url("date.test", "/p"), *others]
        for i in range(8):
            server.route("other.test", f"/p{i}", Reply(200, "ok"))
        out = run_crawl(urls, server.crawl_settings(LINKCRAWLER_DELAY=0.2, **settings))
        sec = gaps_of(page_starts(server, "sec.test"))
        date = gaps_of(page_starts(server, "date.test"))
        other = gaps_of(page_starts(server, "other.test"))
        return sec[0], date[0], other, out


def test_pol5_retry_after_is_waited_out_and_others_go_on() -> None:
    sec_gap, date_gap, other_gaps, out = pol5({})
    assert sec_gap >= 2.9, sec_gap
    assert date_gap >= 2.9, date_gap
    assert max(other_gaps) < 1.0, other_gaps  # other.test never waited for them
    assert all(o["status"] == 200 for o in out.values())
    assert out.lines and {o["attempts"] for o in out.values() if "other" not in o["url"]} == {2}


def test_pol5_negative_control_stock_retry_comes_back_at_once() -> None:
    sec_gap, date_gap, _, _ = pol5(STOCK_RETRY)
    assert not (sec_gap >= 2.9 and date_gap >= 2.9), (sec_gap, date_gap)


# --- POL-6: Retry-After beyond the cap: the site is given up ------------------------------------


def pol6(settings: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    with LoopbackServer() as server:
        server.route("*", "/robots.txt", Reply(404))
        for i in range(4):
            server.route("away.test", f"/p{i}", Reply(429, headers={"Retry-After": "86400"}))
        urls = [server.url("away.test", f"/p{i}") for i in range(4)]
        out = run_crawl(urls, server.crawl_settings(LINKCRAWLER_DELAY=0.1, **settings))
        return len(page_starts(server, "away.test")), out


def test_pol6_long_retry_after_gives_the_site_up() -> None:
    count, out = pol6({})
    assert count == 1
    assert {o["reason"] for o in out.values()} == {"blocked"}
    assert all("86400" in o["detail"] for o in out.values())


def test_pol6_negative_control_stock_retry_keeps_asking() -> None:
    count, _ = pol6({**STOCK_RETRY, "RETRY_HTTP_CODES": [429]})
    assert not count == 1


# --- POL-7: a site answering 500 forever --------------------------------------------------------

POL7 = {
    "LINKCRAWLER_DELAY": 0.05,
    "LINKCRAWLER_BACKOFF_BASE": 0.1,
    "LINKCRAWLER_BACKOFF_MAX": 0.4,
    "LINKCRAWLER_MAX_ATTEMPTS": 5,
    "LINKCRAWLER_HOST_MAX_FAILURES": 6,
}


def pol7(settings: dict[str, Any]) -> tuple[list[float], int, int, dict[str, Any], list[str]]:
    with LoopbackServer() as server:
        server.route("*", "/robots.txt", Reply(404))
        server.default = Reply(500, "oops")
        one = server.url("one.test", "/p")
        many = [server.url("many.test", f"/p{i}") for i in range(3)]
        out = run_crawl([one, *many], server.crawl_settings(**POL7, **settings))
        return (
            gaps_of(page_starts(server, "one.test")),
            len(page_starts(server, "one.test")),
            len(page_starts(server, "many.test")),
            out,
            [one, *many],
        )


def backoff_holds(gaps: list[float]) -> bool:
    """Gaps double (x2, 10% slack) up to the 0.4 s cap, then stay there."""
    if len(gaps) != 4:
        return False
    doubling = all(b >= 1.8 * a for a, b in zip(gaps[:2], gaps[1:3], strict=False))
    capped = all(0.4 - 0.02 <= g <= 0.4 + 0.1 for g in gaps[2:])
    return gaps[0] >= 0.1 - 0.02 and doubling and capped


def test_pol7_backoff_grows_attempts_bounded_site_abandoned() -> None:
    gaps, one_count, many_count, out, (one, *many) = pol7({})
    assert backoff_holds(gaps), gaps
    assert one_count == 5
    # One page's 5 failed attempts are passed on for the spider to classify (page_error).
    assert out[one]["status"] == 500 and out[one]["attempts"] == 5
    # many.test: 5 failures on its first page, the 6th in a row gives the site up.
    assert many_count == 6
    assert out[many[0]]["status"] == 500
    assert {out[u]["reason"] for u in many[1:]} == {"blocked"}
    assert all("given up" in out[u]["detail"] for u in many[1:])


def test_pol7_negative_control_stock_retry_does_not_back_off() -> None:
    gaps, *_ = pol7({**STOCK_RETRY, "RETRY_HTTP_CODES": [500]})
    assert not backoff_holds(gaps), gaps
