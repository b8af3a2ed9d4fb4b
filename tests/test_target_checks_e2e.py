"""End to end: link-target checks when the run remembers fewer targets than it meets.

With LINKCRAWLER_TARGET_CACHE=1, three targets take turns: every result must still carry its
own target's check (status, final URL, redirects), each target is checked at most once per
page that links to it, and nothing else changes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli import import_backlinks
from tests.cli import linkcrawler as cli
from tests.loopback import LoopbackServer, Reply

pytestmark = pytest.mark.slow

PAGES = 9


def page(server: LoopbackServer, i: int) -> str:
    target = server.url("mysite.test", f"/t{i % 3}")
    return f'<html><body><p>Read <a href="{target}">the guide</a> today.</p></body></html>'


def test_every_result_keeps_its_target_check_when_the_cache_holds_one(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'lc.db'}"
    with LoopbackServer() as server:
        for i in range(PAGES):
            server.route("blog.test", f"/p{i}", Reply(200, page(server, i)))
        server.route("mysite.test", "/t0", Reply(200, "ok"))
        server.route("mysite.test", "/t1", Reply(301, headers={"Location": "/t1-new"}))
        server.route("mysite.test", "/t1-new", Reply(200, "ok"))
        server.route("mysite.test", "/t2", Reply(404, "gone"))
        import_backlinks(db, [(server.url("blog.test", f"/p{i}"), server.url("mysite.test", f"/t{i % 3}"))
                              for i in range(PAGES)], tmp_path)
        args = ["verify", "--db", db, "--delay", "0.02", "--no-progress", "--recheck-delay", "0.1",
                "-s", f'LINKCRAWLER_ALLOWED_ENDPOINTS=["127.0.0.1:{server.port}"]',
                "-s", "LINKCRAWLER_TARGET_CACHE=1"]
        for entry in server.resolve_entries(["blog.test", "mysite.test"]):
            args += ["--resolve", entry]
        proc = cli(*args)
        assert proc.returncode == 0, proc.stderr
        checks = {f"/t{k}": server.count("mysite.test", f"/t{k}") for k in range(3)}
        out = cli("export", "--db", db, "--format", "jsonl").stdout
        t1_new = server.url("mysite.test", "/t1-new")
        want = {
            0: (200, server.url("mysite.test", "/t0"), []),
            1: (200, t1_new, [{"url": server.url("mysite.test", "/t1"), "status": 301}]),
            2: (404, server.url("mysite.test", "/t2"), []),
        }
        expected = {server.url("blog.test", f"/p{i}"): want[i % 3] for i in range(PAGES)}
    results = [json.loads(line) for line in out.splitlines()]
    assert len(results) == PAGES
    got = {}
    for r in results:
        link = r["links"][0]
        redirects = [{"url": h["url"], "status": h["status"]} for h in link["target_redirects"]]
        got[r["source_url"]] = (link["target_status"], link["target_final_url"], redirects)
    assert got == expected
    assert all(1 <= n <= PAGES // 3 for n in checks.values()), checks
