"""DAT-3: the database goes away mid-run. A short outage loses nothing (writes and reads are
retried); a long one ends the run with exit 3 and the run is not marked complete. The outage
is made by a TCP relay in front of the real PostgreSQL server, so nothing else is disturbed."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url

from linkcrawler.db import Result, Run
from tests.cli import import_backlinks
from tests.loopback import LoopbackServer, Reply

pytestmark = pytest.mark.slow

LINKED = '<html><body><p>See <a href="http://mysite.test/">my site</a>.</p></body></html>'
PAGES = 40


class Relay:
    """Forwards 127.0.0.1:port to the database; `cut()` drops every connection and refuses
    new ones until `restore()`."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self._conns: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self._lock = threading.Lock()
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(32)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            if self._listener is not None:
                # shutdown() wakes the thread blocked in accept(); close() alone would leave
                # the port listening until that accept returned.
                try:
                    self._listener.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                self._listener.close()
                self._listener = None
            for conn in self._conns:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                conn.close()
            self._conns.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            with self._lock:
                self._conns += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.close()
            except OSError:
                pass


def run_with_outage(tmp_path: Path, pg_url: str, outage: float, limit: float) -> tuple[int, str, int, str]:
    url = make_url(pg_url)
    relay = Relay((url.host or "127.0.0.1", url.port or 5432))
    relayed = url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
    with LoopbackServer() as server:
        for i in range(PAGES):
            server.route(f"s{i % 2}.test", f"/p{i}", Reply(200, LINKED, delay=0.05))
        import_backlinks(relayed, [(server.url(f"s{i % 2}.test", f"/p{i}"), "mysite.test")
                                   for i in range(PAGES)], tmp_path)
        args = [sys.executable, "-m", "linkcrawler", "verify", "--db", relayed, "--delay", "0.3",
                "--no-progress", "-s", f'LINKCRAWLER_ALLOWED_ENDPOINTS=["127.0.0.1:{server.port}"]',
                "-s", "LINKCRAWLER_BATCH_SECONDS=0.2", "-s", f"LINKCRAWLER_DB_OUTAGE_SECONDS={limit}",
                "-s", "LINKCRAWLER_START_BUFFER=5", *server.resolve_args()]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        engine = create_engine(pg_url)
        deadline = time.monotonic() + 60
        with engine.connect() as conn:
            while conn.scalar(select(func.count()).select_from(Result)) < 5 and time.monotonic() < deadline:
                time.sleep(0.1)
                conn.rollback()
        relay.cut()
        time.sleep(outage)
        relay.restore()
        out, err = proc.communicate(timeout=120)
        relay.cut()
    with engine.connect() as conn:
        count = conn.scalar(select(func.count()).select_from(Result)) or 0
        state = conn.scalar(select(Run.state))
    engine.dispose()
    return proc.returncode, err, count, state


def test_short_outage_loses_nothing(tmp_path: Path, pg_url: str) -> None:
    code, err, count, state = run_with_outage(tmp_path, pg_url, outage=3, limit=30)
    assert (code, count, state) == (0, PAGES, "completed"), err[-3000:]
    assert "will retry" in err


def test_long_outage_exits_3_and_the_run_is_not_complete(tmp_path: Path, pg_url: str) -> None:
    code, err, count, state = run_with_outage(tmp_path, pg_url, outage=12, limit=2)
    assert code == 3, err[-3000:]
    assert state != "completed" and count < PAGES
    assert "Traceback" not in err
