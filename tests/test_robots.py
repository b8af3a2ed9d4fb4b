"""ROB-1, ROB-3, ROB-4 and POL-3: robots.txt per RFC 9309, measured at the loopback server.

One crawl covers every robots.txt case (one host each); the negative control runs the same
crawl without the robots middleware and must show page requests to the unavailable hosts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from linkcrawler.robots import RobotsRules, parse_robots
from tests.crawl_harness import CrawlOutcomes, run_crawl
from tests.loopback import LoopbackServer, Reply, free_port

RULES = "User-agent: Googlebot\nDisallow: /nogoogle\n\nUser-agent: *\nDisallow: /private\n"
MAX = 512 * 1024


def big_robots() -> str:
    """About 600 KiB, with our rule starting at 510 KiB (ROB-3)."""
    filler = "# " + "x" * 97 + "\n"  # 100 bytes
    head = "User-agent: *\nDisallow: /private\n" + filler * (510 * 1024 // 100)
    return head + "Disallow: /late\n" + filler * (90 * 1024 // 100)


# Host -> robots.txt reply; redirect chains are added in `robots_crawl`.
STATUS_HOSTS = {f"s{code}.test": code for code in (400, 401, 403, 404, 410, 429, 500, 502, 503, 504)}
ODD_FILES: dict[str, bytes] = {
    "bom.test": b"\xef\xbb\xbfUser-agent: *\r\nDisallow: /private\r\n",
    "cr.test": b"User-agent: *\rDisallow: /private\r",
    "badbytes.test": b"User-agent: *\n\xff\xfe\xc3(Disallow: /x\nDisallow: /private\n",
    "nul.test": b"User-agent: *\nDis\x00allow: /public\nDisallow: /private\x00\nDisallow: /priv\n",
    "longline.test": b"User-agent: *\nDisallow: /" + b"a" * 100_000 + b"\nDisallow: /private\n",
    "html.test": b"<html><body><h1>Oops, an error</h1><p>Disallow nothing</p></body></html>",
    "empty.test": b"",
}
# ROB-4, documented results: what /private gives on each.
ODD_EXPECTED = {
    "bom.test": "robots_disallowed",  # BOM dropped, rules apply
    "cr.test": "robots_disallowed",  # CR alone ends lines
    "badbytes.test": "robots_disallowed",  # bad bytes replaced; later lines still apply
    "nul.test": "robots_disallowed",  # "/priv" applies; NUL lines do not
    "longline.test": "robots_disallowed",  # the line after a 100k-char line applies
    "html.test": 200,  # no directive: allow all
    "empty.test": 200,  # allow all
}
CHAINS = range(1, 7)  # robots.txt reached through 1..6 redirects, across hosts
UNAVAILABLE = ["s429.test", "s500.test", "s502.test", "s503.test", "s504.test", "slow.test"]


@dataclass
class RobotsCrawl:
    out: CrawlOutcomes
    server: LoopbackServer
    url: Any
    refused_url: str
    nx_url: str


def robots_crawl(settings: dict[str, Any]) -> RobotsCrawl:
    server = LoopbackServer().start()
    try:
        hosts = ["ok.test", "big.test", "slow.test", "hop.test", *STATUS_HOSTS, *ODD_FILES]
        server.route("ok.test", "/robots.txt", Reply(200, RULES))
        server.route("big.test", "/robots.txt", Reply(200, big_robots()))
        server.route("slow.test", "/robots.txt", Reply(200, RULES, delay=10))
        for host, code in STATUS_HOSTS.items():
            server.route(host, "/robots.txt", Reply(code, "no"))
        for host, body in ODD_FILES.items():
            server.route(host, "/robots.txt", Reply(200, body, headers={"Content-Type": "text/plain"}))
        for n in CHAINS:
            host = f"r{n}.test"
            hosts.append(host)
            path = "/robots.txt"
            for i in range(n):  # each hop moves between r{n}.test and hop.test
                nxt_host = "hop.test" if i % 2 == 0 else host
                nxt = f"/chain{n}-{i}"
                server.route(host if i % 2 == 0 else "hop.test", path,
                             Reply(301, headers={"Location": server.url(nxt_host, nxt)}))
                path = nxt
            server.route("hop.test" if n % 2 else host, path, Reply(200, RULES))
        server.default = Reply(200, "<p>page</p>")
        refused_port = free_port()
        refused_url = f"http://refused.test:{refused_port}/private"
        nx_url = f"http://nx.invalid:{server.port}/private"
        all_settings = server.crawl_settings(hosts, LINKCRAWLER_DELAY=0.05, DOWNLOAD_TIMEOUT=3,
                                             **settings)
        all_settings["LINKCRAWLER_RESOLVE"].append(f"refused.test:{refused_port}:127.0.0.1")
        all_settings["LINKCRAWLER_ALLOWED_ENDPOINTS"].append(f"127.0.0.1:{refused_port}")
        urls = [server.url(h, p) for h in hosts if h != "hop.test"
                for p in ("/private", "/public", "/nogoogle", "/late")]
        out = run_crawl([*urls, refused_url, nx_url], all_settings)
    finally:
        server.stop()
    return RobotsCrawl(out, server, server.url, refused_url, nx_url)


@pytest.fixture(scope="module")
def crawl() -> RobotsCrawl:
    return robots_crawl({})


class Result(str):
    """An outcome's reason or status, carrying the whole outcome for assertion messages."""

    outcome: dict[str, Any]

    def __repr__(self) -> str:
        return f"{str.__repr__(self)} ({self.outcome})"


def result(c: RobotsCrawl, host: str, path: str = "/private") -> Any:
    o = c.out[c.url(host, path)]
    if o["reason"]:
        r = Result(o["reason"])
        r.outcome = o
        return r
    return o["status"]


def page_requests(c: RobotsCrawl, host: str) -> int:
    return sum(1 for r in c.server.requests(host) if r.path != "/robots.txt")


# --- ROB-1 ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_rob1_2xx_rules_apply_for_us_and_googlebot(crawl: RobotsCrawl) -> None:
    assert result(crawl, "ok.test") == "robots_disallowed"
    assert result(crawl, "ok.test", "/public") == 200
    assert crawl.out[crawl.url("ok.test", "/public")]["googlebot_allowed"] is True
    nogoogle = crawl.out[crawl.url("ok.test", "/nogoogle")]
    assert nogoogle["status"] == 200 and nogoogle["googlebot_allowed"] is False
    # Googlebot has its own group, so the "*" group's /private does not bind it (RFC 9309 §2.2.1).
    assert crawl.out[crawl.url("ok.test", "/private")]["googlebot_allowed"] is True
    assert len(crawl.server.requests("ok.test", "/robots.txt")) == 1  # once per run


@pytest.mark.slow
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_rob1_up_to_five_redirects_rules_apply(crawl: RobotsCrawl, n: int) -> None:
    assert result(crawl, f"r{n}.test") == "robots_disallowed"
    assert result(crawl, f"r{n}.test", "/public") == 200


@pytest.mark.slow
def test_rob1_six_redirects_allow_all(crawl: RobotsCrawl) -> None:
    assert result(crawl, "r6.test") == 200


@pytest.mark.slow
@pytest.mark.parametrize("code", [400, 401, 403, 404, 410])
def test_rob1_4xx_allows_all(crawl: RobotsCrawl, code: int) -> None:
    assert result(crawl, f"s{code}.test") == 200
    assert crawl.out[crawl.url(f"s{code}.test", "/private")]["googlebot_allowed"] is True


@pytest.mark.slow
@pytest.mark.parametrize("host", UNAVAILABLE)
def test_rob1_429_5xx_timeout_fetch_nothing(crawl: RobotsCrawl, host: str) -> None:
    assert page_requests(crawl, host) == 0
    for path in ("/private", "/public"):
        o = crawl.out[crawl.url(host, path)]
        assert o["reason"] == "robots_unavailable", o
        assert o["googlebot_allowed"] is None


@pytest.mark.slow
def test_rob1_refused_and_dns_failure_fetch_nothing(crawl: RobotsCrawl) -> None:
    assert crawl.out[crawl.refused_url]["reason"] == "robots_unavailable"
    # A name that does not exist is reported as such (the page is not fetched either way).
    assert crawl.out[crawl.nx_url]["reason"] == "domain_gone"
    assert "NXDOMAIN" in crawl.out[crawl.nx_url]["detail"]


@pytest.mark.slow
def test_rob1_negative_control_without_robots_middleware() -> None:
    c = robots_crawl({"DOWNLOADER_MIDDLEWARES": {"linkcrawler.robots.RobotsTxtMiddleware": None}})
    assert not all(page_requests(c, h) == 0 for h in UNAVAILABLE)


@pytest.mark.slow
def test_rob1_rules_dropped_from_a_full_cache_are_fetched_again_never_assumed() -> None:
    hosts = [f"c{i}.test" for i in range(4)]
    with LoopbackServer() as server:
        for host in hosts:
            server.route(host, "/robots.txt", Reply(200, RULES))
        server.default = Reply(200, "<p>page</p>")
        urls = [server.url(h, f"{kind}{n}") for n in range(3) for h in hosts for kind in ("/private", "/public")]
        settings = server.crawl_settings(hosts, LINKCRAWLER_DELAY=0.05, LINKCRAWLER_ROBOTS_CACHE_ORIGINS=1)
        out = run_crawl(urls, settings)
        robots_fetches = {h: len(server.requests(h, "/robots.txt")) for h in hosts}
        private_fetched = [r.path for h in hosts for r in server.requests(h) if r.path.startswith("/private")]
    assert {url: (o["status"], o["reason"]) for url, o in out.items()} == {
        url: (None, "robots_disallowed") if "/private" in url else (200, None) for url in urls
    }
    assert private_fetched == []
    # Four origins take turns in a cache of one: rules were dropped and fetched again.
    assert sum(robots_fetches.values()) > len(hosts)
    assert all(n <= 6 for n in robots_fetches.values()), robots_fetches  # at most once per page


# --- ROB-3 / ROB-4 --------------------------------------------------------------------------


@pytest.mark.slow
def test_rob3_rule_at_510_kib_applies(crawl: RobotsCrawl) -> None:
    assert result(crawl, "big.test", "/late") == "robots_disallowed"
    assert result(crawl, "big.test", "/public") == 200


@pytest.mark.slow
@pytest.mark.parametrize("host", sorted(ODD_FILES))
def test_rob4_odd_files_no_crash_documented_result(crawl: RobotsCrawl, host: str) -> None:
    assert result(crawl, host) == ODD_EXPECTED[host]
    assert "Traceback" not in crawl.out.stderr


def allows(body: bytes, path: str, agent: str = "linkcrawler") -> bool | None:
    return RobotsRules("http://x.test:80", "test", parser=parse_robots(body, MAX)).allows(
        f"http://x.test{path}", agent
    )


def test_parse_robots_unit_cases() -> None:
    for host, body in ODD_FILES.items():
        assert allows(body, "/private") is (ODD_EXPECTED[host] == 200), host
    assert allows(ODD_FILES["nul.test"], "/public") is True  # "Dis\0allow" is not a directive
    assert allows(big_robots().encode(), "/late") is False
    assert allows(RULES.encode(), "/nogoogle", "Googlebot") is False
    # Beyond the limit nothing is read: a rule after MAX bytes does not apply.
    past = b"User-agent: *\n" + b"#" * MAX + b"\nDisallow: /late\n"
    assert allows(past, "/late") is True


def test_crawl_delay_values() -> None:
    def delay(value: str) -> float | None:
        body = f"User-agent: linkcrawler\nCrawl-delay: {value}\nDisallow: /x\n".encode()
        return RobotsRules("o", "t", parser=parse_robots(body, MAX)).crawl_delay("linkcrawler")

    assert delay("2") == 2.0
    assert delay("0.5") == 0.5
    for bad in ("abc", "-5", "nan", "inf", ""):
        assert delay(bad) is None, bad


# --- POL-3: Crawl-delay ---------------------------------------------------------------------


def crawl_delay_crawl(settings: dict[str, Any]) -> tuple[list[float], CrawlOutcomes, LoopbackServer, Any]:
    with LoopbackServer() as server:
        server.route("cd.test", "/robots.txt", Reply(200, "User-agent: *\nCrawl-delay: 2\n"))
        server.route("far.test", "/robots.txt", Reply(200, "User-agent: linkcrawler\nCrawl-delay: 31\n"))
        for bad in ("abc", "-5", "nan"):
            host = f"bad{bad.strip('-')}.test"
            server.route(host, "/robots.txt", Reply(200, f"User-agent: *\nCrawl-delay: {bad}\n"))
        server.default = Reply(200, "ok")
        hosts = ["cd.test", "far.test", "badabc.test", "bad5.test", "badnan.test"]
        urls = [server.url(h, f"/p{i}") for h in hosts for i in range(3)]
        out = run_crawl(urls, server.crawl_settings(LINKCRAWLER_DELAY=0.2, **settings))
        return server.start_gaps()["cd.test"], out, server, server.url


@pytest.mark.slow
def test_pol3_crawl_delay_honoured_capped_and_bad_values_ignored() -> None:
    gaps, out, server, url = crawl_delay_crawl({})
    assert len(gaps) == 3 and min(gaps) >= 1.98, gaps
    # Above the 30 s cap: skipped as blocked, no page requested.
    assert {out[url("far.test", f"/p{i}")]["reason"] for i in range(3)} == {"blocked"}
    assert server.count("far.test") == 1  # robots.txt only
    for host in ("badabc.test", "bad5.test", "badnan.test"):
        assert all(out[url(host, f"/p{i}")]["status"] == 200 for i in range(3))
        assert max(server.start_gaps()[host]) < 1.0


@pytest.mark.slow
def test_pol3_negative_control_without_robots_middleware() -> None:
    gaps, *_ = crawl_delay_crawl(
        {"DOWNLOADER_MIDDLEWARES": {"linkcrawler.robots.RobotsTxtMiddleware": None}}
    )
    assert not min(gaps) >= 1.98, gaps
