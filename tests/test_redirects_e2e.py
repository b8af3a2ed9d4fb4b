"""RED-1..RED-4 of RELIABILITY.md through the real CLI: every hop stored in order, loops and
long chains end in exactly one result with bounded requests, non-http(s) targets are never
fetched, and retried pages report their attempts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli import import_backlinks, linkcrawler
from tests.loopback import LoopbackServer, Replies, Reply

pytestmark = pytest.mark.slow

LINKED = '<html><body><p>See <a href="http://mysite.test/">my site</a>.</p></body></html>'


def go(status: int, location: str) -> Reply:
    return Reply(status, headers={"Location": location})


def crawl(server: LoopbackServer, tmp_path: Path, sources: list[str]) -> dict[str, dict]:
    db = f"sqlite:///{tmp_path / 'lc.db'}"
    import_backlinks(db, [(s, "mysite.test") for s in sources], tmp_path)
    args = ["verify", "--db", db, "--delay", "0.02", "--no-progress",
            "--recheck-delay", "0.05", "-s", f'LINKCRAWLER_ALLOWED_ENDPOINTS=["127.0.0.1:{server.port}"]',
            "-s", "LINKCRAWLER_BACKOFF_BASE=0.3", "-s", "LINKCRAWLER_BACKOFF_MAX=1"]
    args += server.resolve_args()
    proc = linkcrawler(*args)
    assert proc.returncode == 0, proc.stderr
    out = linkcrawler("export", "--db", db).stdout
    return {r["source_url"]: r for r in map(json.loads, out.splitlines())}


def test_red_1_every_hop_in_order(tmp_path: Path) -> None:
    with LoopbackServer() as s:
        p = s.port
        s.route("a.test", "/start", go(301, f"http://b.test:{p}/two"))  # absolute, cross-host
        s.route("b.test", "/two", go(302, "/three"))  # relative
        s.route("b.test", "/three", go(303, f"//c.test:{p}/four"))  # protocol-relative
        s.route("c.test", "/four", go(307, "five?x=1"))  # relative path
        s.route("c.test", "/five?x=1", go(308, f"http://a.test:{p}/final#frag"))
        s.route("a.test", "/final", Reply(200, LINKED))
        s.route("mysite.test", "/", Reply(200, "home"))
        r = crawl(s, tmp_path, [s.url("a.test", "/start")])[s.url("a.test", "/start")]
    assert (r["status"], r["reason"]) == ("live", "found")
    assert r["redirects"] == [
        {"url": f"http://a.test:{p}/start", "status": 301},
        {"url": f"http://b.test:{p}/two", "status": 302},
        {"url": f"http://b.test:{p}/three", "status": 303},
        {"url": f"http://c.test:{p}/four", "status": 307},
        {"url": f"http://c.test:{p}/five?x=1", "status": 308},
    ]
    assert r["final_url"] == f"http://a.test:{p}/final"  # the fragment is never sent


def test_red_2_loops_and_long_chains_end_in_one_result(tmp_path: Path) -> None:
    with LoopbackServer() as s:
        s.route("loop.test", "/a", go(302, "/b"))
        s.route("loop.test", "/b", go(302, "/a"))
        s.route("self.test", "/me", go(301, "/me"))
        refresh = '<html><head><meta http-equiv="refresh" content="0; url={}"></head><body>wait</body></html>'
        s.route("meta.test", "/x", Reply(200, refresh.format("/y")))
        s.route("meta.test", "/y", Reply(200, refresh.format("/x")))
        for i in range(30):
            s.route("long.test", f"/{i}", go(302, f"/{i + 1}"))
        sources = [s.url("loop.test", "/a"), s.url("self.test", "/me"), s.url("meta.test", "/x"),
                   s.url("long.test", "/0")]
        results = crawl(s, tmp_path, sources)
        requests = {h: s.count(h) for h in ("loop.test", "self.test", "meta.test", "long.test")}
    assert {u: r["reason"] for u, r in results.items()} == {
        sources[0]: "redirect_loop", sources[1]: "redirect_loop", sources[2]: "redirect_loop",
        sources[3]: "too_many_redirects"}
    # robots.txt + the hops, nothing more: no refetching, no unbounded chase.
    assert requests == {"loop.test": 1 + 2, "self.test": 1 + 1, "meta.test": 1 + 2, "long.test": 1 + 11}


def test_red_3_non_http_targets_are_never_fetched(tmp_path: Path) -> None:
    with LoopbackServer() as s:
        targets = ["file:///etc/passwd", "ftp://files.test/x", "data:text/html,<a href=x>x</a>",
                   "javascript:alert(1)", "JaVa\tScRiPt:alert(1)"]
        for i, location in enumerate(targets):
            s.route("bad.test", f"/{i}", go(302, location))
        results = crawl(s, tmp_path, [s.url("bad.test", f"/{i}") for i in range(len(targets))])
        fetched = s.count("bad.test")
    assert {r["reason"] for r in results.values()} == {"invalid_url"}
    assert all(r["status"] == "unverified" and r["error"] for r in results.values())
    assert fetched == 1 + len(targets)  # robots.txt and each page once; nothing else


def test_red_4_retried_page_reports_its_attempts(tmp_path: Path) -> None:
    with LoopbackServer() as s:
        s.route("flaky.test", "/page", Replies(Reply(503), Reply(503), Reply(200, LINKED)))
        s.route("mysite.test", "/", Reply(200, "home"))
        r = crawl(s, tmp_path, [s.url("flaky.test", "/page")])[s.url("flaky.test", "/page")]
        starts = [rec.start for rec in s.requests("flaky.test", "/page")]
    assert (r["status"], r["reason"], r["attempts"]) == ("live", "found", 3)
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert gaps[0] >= 0.3 - 0.02 and gaps[1] >= 2 * gaps[0] * 0.9  # exponential backoff
