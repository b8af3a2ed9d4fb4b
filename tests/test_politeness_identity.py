"""POL-10 (User-Agent on every request), SEC-6 (no listening socket), --max-page-bytes."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from linkcrawler import __version__
from tests.crawl_harness import run_crawl, start_crawl
from tests.loopback import LoopbackServer, Replies, Reply

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("agent", [None, "ExampleBot/2.0 (+https://example.test/bot)"])
def test_pol10_every_request_carries_the_user_agent(agent: str | None) -> None:
    with LoopbackServer() as server:
        server.route("*", "/robots.txt", Reply(200, "User-agent: *\nDisallow: /no\n"))
        server.route("a.test", "/flaky", Replies(Reply(503), Reply(200, "ok")))
        urls = [server.url(h, "/p") for h in ("a.test", "b.test")] + [server.url("a.test", "/flaky")]
        extra = {"USER_AGENT": agent} if agent else {}
        run_crawl(urls, server.crawl_settings(LINKCRAWLER_DELAY=0, LINKCRAWLER_BACKOFF_BASE=0.05,
                                              **extra))
        records = server.records
    expected = agent or f"linkcrawler/{__version__} (+https://"
    assert len(records) == 6  # two robots.txt, three pages, one retry
    assert {r.path for r in records} >= {"/robots.txt", "/p", "/flaky"}
    assert all(r.user_agent.startswith(expected) for r in records), {r.user_agent for r in records}
    assert all("(+http" in r.user_agent for r in records)


def listening_sockets(pid: int) -> list[str]:
    """TCP sockets in LISTEN state owned by the process (from /proc)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    found = []
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:
                found.append(f"{table} {fields[1]}")
    return found


def sockets_while_crawling(settings: dict[str, object]) -> list[str]:
    with LoopbackServer() as server:
        server.route("*", "/robots.txt", Reply(404))
        server.route("a.test", "/slow", Reply(200, "ok", delay=4))
        proc = start_crawl([server.url("a.test", "/slow")], server.crawl_settings(**settings))
        try:
            deadline = time.time() + 30
            while not server.count("a.test", "/slow") and time.time() < deadline:
                time.sleep(0.05)
            assert server.count("a.test", "/slow"), "the crawl never reached the server"
            return listening_sockets(proc.pid)
        finally:
            proc.kill()
            proc.communicate()


def test_sec6_no_listening_socket_while_crawling() -> None:
    assert sockets_while_crawling({}) == []


def test_sec6_negative_control_telnet_console_listens() -> None:
    assert sockets_while_crawling({"TELNETCONSOLE_ENABLED": True}) != []


def test_sec6_remote_control_cannot_be_turned_on() -> None:
    # Not even listed among the extensions: the setting alone opens nothing.
    assert sockets_while_crawling({"REMOTE_CONTROL_ENABLED": True}) == []


def test_max_page_bytes_gives_too_large_without_retry() -> None:
    with LoopbackServer() as server:
        server.route("*", "/robots.txt", Reply(404))
        server.route("a.test", "/big", Reply(200, b"x" * 300_000))
        server.route("a.test", "/drip", Reply(200, b"y" * 300_000, drip=0.01, chunk=50_000))
        server.route("a.test", "/small", Reply(200, b"z" * 1000))
        urls = [server.url("a.test", p) for p in ("/big", "/drip", "/small")]
        out = run_crawl(urls, server.crawl_settings(
            LINKCRAWLER_DELAY=0, LINKCRAWLER_MAX_PAGE_BYTES=100_000, DOWNLOAD_MAXSIZE=100_000))
        counts = {p: server.count("a.test", p) for p in ("/big", "/drip")}
    assert out[urls[0]]["reason"] == "too_large" and out[urls[1]]["reason"] == "too_large"
    assert "100000" in out[urls[0]]["detail"]
    assert out[urls[2]]["status"] == 200
    assert counts == {"/big": 1, "/drip": 1}
