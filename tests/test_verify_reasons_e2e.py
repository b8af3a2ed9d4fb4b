"""End to end: every status/reason row of DESIGN §5 that the demo web does not plant, produced
by a scripted loopback server and checked through the real CLI and the export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli import import_backlinks
from tests.cli import linkcrawler as cli
from tests.loopback import Canary, LoopbackServer, Replies, Reply

pytestmark = pytest.mark.slow

TARGET = "mysite.test"
LINKED = '<html><body><p>See <a href="http://mysite.test/">my site</a> now.</p></body></html>'


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(status, headers={"Location": location})


def build(server: LoopbackServer, canary_port: int) -> dict[str, tuple[str, str]]:
    port = server.port
    expected: dict[str, tuple[str, str]] = {}

    def case(url: str, status: str, reason: str) -> None:
        expected[url] = (status, reason)

    server.route("err.test", "/500", Reply(500, "boom"))
    for i in range(3):  # the site serves other pages fine, whichever is fetched first
        server.route("err.test", f"/ok{i}", Reply(200, LINKED))
        case(server.url("err.test", f"/ok{i}"), "live", "found")
    case(server.url("err.test", "/500"), "lost", "page_error")
    server.route("down.test", "/page", Reply(502, "bad gateway"))
    case(server.url("down.test", "/page"), "unverified", "blocked")
    server.route("err.test", "/400", Reply(400, "bad"))
    case(server.url("err.test", "/400"), "lost", "page_error")
    server.route("flaky.test", "/page", Replies(Reply(503), Reply(503), Reply(200, LINKED)))
    case(server.url("flaky.test", "/page"), "live", "found")
    server.route("norobots.test", "/robots.txt", Reply(503, "down"))
    server.route("norobots.test", "/page", Reply(200, LINKED))
    case(server.url("norobots.test", "/page"), "unverified", "robots_unavailable")
    server.route("slow.test", "/page", Reply(200, LINKED, delay=5))
    case(server.url("slow.test", "/page"), "unverified", "timeout")
    server.route("drop.test", "/page", Reply(close=True))
    case(server.url("drop.test", "/page"), "unverified", "connection_error")
    server.route("big.test", "/page", Reply(200, "<p>" + "x" * 300_000 + "</p>"))
    case(server.url("big.test", "/page"), "unverified", "too_large")
    for i in range(12):
        server.route("chain.test", f"/r{i}", redirect(f"/r{i + 1}"))
    case(server.url("chain.test", "/r0"), "unverified", "too_many_redirects")
    server.route("ftp.test", "/page", redirect("ftp://files.example/page"))
    case(server.url("ftp.test", "/page"), "unverified", "invalid_url")
    server.route("inside.test", "/page", redirect(f"http://127.0.0.1:{canary_port}/admin"))
    case(server.url("inside.test", "/page"), "unverified", "blocked_address")
    case(f"http://127.0.0.1:{canary_port}/", "unverified", "blocked_address")
    case(f"https://{'tls.test'}:{port}/page", "unverified", "tls_error")
    server.route("tls.test", "/page", Reply(200, LINKED))
    case(f"http://nowhere-{port}.invalid/page", "lost", "domain_gone")
    server.route("cf.test", "/page", Reply(200, "<html><title>Just a moment...</title>"
                                                "<script src=/cdn-cgi/challenge-platform/x.js></script>"))
    case(server.url("cf.test", "/page"), "unverified", "blocked")
    # Stock Scrapy drops requests for URLs over 2,083 characters without calling anything:
    # the backlink would get no result at all.
    long_path = "/" + "/".join(["a-very-long-path-segment"] * 120)
    server.route("long.test", long_path, Reply(200, LINKED))
    case(server.url("long.test", long_path), "live", "found")
    return expected


def test_every_remaining_reason(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'lc.db'}"
    with LoopbackServer() as server, Canary() as canary:
        expected = build(server, canary.port)
        import_backlinks(db, [(url, TARGET) for url in expected], tmp_path)
        hosts = sorted({h for h, _p in server.routes} | {TARGET})
        args = ["verify", "--db", db, "--delay", "0.05", "--timeout", "1", "--recheck-delay", "0.1",
                "--no-progress", "--max-page-bytes", "100000",
                "-s", f'LINKCRAWLER_ALLOWED_ENDPOINTS=["127.0.0.1:{server.port}"]',
                "-s", "LINKCRAWLER_BACKOFF_BASE=0.05", "-s", "LINKCRAWLER_BACKOFF_MAX=0.2"]
        for entry in server.resolve_entries(hosts):
            args += ["--resolve", entry]
        proc = cli(*args)
        assert proc.returncode == 0, proc.stderr
        out = cli("export", "--db", db, "--format", "jsonl").stdout
        assert canary.connections == 0
        robots_down = server.count("norobots.test", "/page")
    results = {r["source_url"]: r for r in map(json.loads, out.splitlines())}
    got = {url: (r["status"], r["reason"]) for url, r in results.items()}
    assert got == expected
    assert robots_down == 0  # RFC 9309: a 503 robots.txt means no page request at all
    flaky = results[server.url("flaky.test", "/page")]
    assert flaky["attempts"] == 3
    chain = results[server.url("chain.test", "/r0")]
    assert "more than 10 redirects" in chain["error"]
    for r in results.values():
        assert r["status"] == "live" or r["error"], r
