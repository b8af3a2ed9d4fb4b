"""A killed run resumes without refetching stored pages and never writes a second result
(DAT-1, on SQLite and PostgreSQL); a second run on the same database refuses (DAT-4)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, func, select

from linkcrawler.db import Backlink, Page, Result, Run
from tests.cli import import_backlinks
from tests.loopback import LoopbackServer, Reply

pytestmark = pytest.mark.slow

HOSTS = [f"site{i}.test" for i in range(6)]
PAGES = 60
LINKED = '<html><body><p>See <a href="http://mysite.test/">my site</a> now.</p></body></html>'


def page_urls(server: LoopbackServer) -> list[str]:
    return [server.url(HOSTS[i % len(HOSTS)], f"/p{i}") for i in range(PAGES)]


def start_web(server: LoopbackServer) -> None:
    for i in range(PAGES):
        server.route(HOSTS[i % len(HOSTS)], f"/p{i}", Reply(200, LINKED, delay=0.15))


def import_pages(server: LoopbackServer, tmp_path: Path, db: str) -> None:
    import_backlinks(db, [(url, "mysite.test") for url in page_urls(server)], tmp_path)


def verify_cmd(server: LoopbackServer, db: str, *extra: str) -> list[str]:
    args = [sys.executable, "-m", "linkcrawler", "verify", "--db", db, "--delay", "0.2", "--no-progress",
            "-s", f'LINKCRAWLER_ALLOWED_ENDPOINTS=["127.0.0.1:{server.port}"]',
            "-s", "LINKCRAWLER_BATCH_SECONDS=0.2", *extra]
    for entry in server.resolve_entries([*HOSTS, "mysite.test"]):
        args += ["--resolve", entry]
    return args


def stored(db: str) -> int:
    engine = create_engine(db)
    try:
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(Result)) or 0
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


def test_kill_9_then_resume(tmp_path: Path, any_db: str) -> None:
    with LoopbackServer() as server:
        start_web(server)
        server.route("mysite.test", "/", Reply(200, "home"))
        import_pages(server, tmp_path, any_db)
        proc = subprocess.Popen(verify_cmd(server, any_db), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while stored(any_db) < 15 and time.monotonic() < deadline:
            time.sleep(0.1)
        os.kill(proc.pid, signal.SIGKILL)
        _out, err = proc.communicate()
        before_kill = stored(any_db)
        assert 15 <= before_kill < PAGES, err.decode()[-3000:]
        engine = create_engine(any_db)
        with engine.connect() as conn:
            done_pages = set(conn.scalars(
                select(Page.url).join(Backlink, Backlink.page_id == Page.id)
                .join(Result, Result.backlink_id == Backlink.id)))
            assert conn.scalar(select(Run.state)) == "running"
        done_paths = {urlsplit(url).path for url in done_pages}
        count_before = {path: server.count(path=path) for path in done_paths}

        resumed = subprocess.run(verify_cmd(server, any_db, "--resume"), capture_output=True, text=True,
                                 timeout=120)
        assert resumed.returncode == 0, resumed.stderr
        refetched = sorted(p for p in done_paths if server.count(path=p) > count_before[p])
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Result)) == PAGES
        assert conn.scalar(select(func.count(func.distinct(Result.backlink_id)))) == PAGES
        assert list(conn.execute(select(Run.id, Run.state))) == [(1, "completed")]
        assert conn.scalar(select(func.count()).where(Result.status == "live")) == PAGES
    engine.dispose()
    assert refetched == []  # pages with a stored result were not fetched again


def test_second_run_on_the_same_database_refuses(tmp_path: Path, sqlite_url: str) -> None:
    with LoopbackServer() as server:
        start_web(server)
        import_pages(server, tmp_path, sqlite_url)
        first = subprocess.Popen(verify_cmd(server, sqlite_url), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while stored(sqlite_url) < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        second = subprocess.run(verify_cmd(server, sqlite_url), capture_output=True, text=True, timeout=60)
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=60)
    assert second.returncode == 3
    assert "already in progress" in second.stderr and "Traceback" not in second.stderr
    assert first.returncode == 3  # SIGTERM: stopped, run left for --resume
    engine = create_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.scalar(select(Run.state)) == "interrupted"
    engine.dispose()
