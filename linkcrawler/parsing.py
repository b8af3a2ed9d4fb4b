"""Parsing referring pages off the reactor: in worker processes when the machine has cores
to spare, so fetching, pacing and storage never wait for lxml and the position classifier.

Parsing is CPU-bound and pure (bytes in, a frozen ParsedPage out), so it moves to another
process without changing a single result: the same `parse_page`, the same decisions.

Why not concurrent.futures.ProcessPoolExecutor: on 3.11 its manager thread fights the reactor
for the GIL and its wake-up pipe blocks the submitting thread (py-spy put a fifth of the crawl
process's time there, bench/verify.py), and one dead worker breaks the whole pool. Here each
worker has a socket; the reactor's own event loop writes jobs and reads answers without
blocking, a dead worker fails only its own pages and is replaced, and when every worker is
busy the crawl process parses the page itself, so both cores stay in use whichever side is
the slower.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import multiprocessing
import os
import pickle
import socket
import struct
import sys
import time
from collections.abc import Sequence
from typing import Any

from linkcrawler import settings as defaults
from linkcrawler.collector import freeze_startup_heap
from linkcrawler.extraction import ParsedPage, parse_page
from linkcrawler.urls import Target
from linkcrawler.verification import challenge_in_body, hosts_outside, may_link_to

logger = logging.getLogger(__name__)

_HEADER = struct.Struct("!I")
# A job: its pickled arguments' length and the page's length, the pickle, then the page as it
# is. Pickling a 40 KB body only to copy it cost more than the rest of the job (18 of 21 µs).
_JOB_HEADER = struct.Struct("!II")
# 30,000 pages, alternating runs: the crawl process parsed 2,696 and 2,722 pages itself with the
# stock buffer, 2,003 and 1,941 with this; wall 32.3 and 32.8 s against 31.7 and 32.3 s.
_SEND_BUFFER = 4 << 20


def parse_for_targets(body: bytes, url: str, content_type: str, x_robots_tag: Sequence[str],
                      targets: Sequence[Target]) -> ParsedPage:
    """parse_page keeping only the links that may reach `targets` (classified for position);
    no other link can match them, so the verdict is the same and the answer is small."""
    return parse_page(body, url, content_type=content_type, x_robots_tag=list(x_robots_tag),
                      classify=may_link_to(targets), only_classified=True, skip_hosts=hosts_outside(targets))


def read_page(body: bytes, url: str, content_type: str, x_robots_tag: Sequence[str],
              targets: Sequence[Target], status: int = 200) -> ParsedPage | None:
    """parse_for_targets, or None when the body is a bot challenge page (not parsed).

    The challenge scan is here, where parse workers run it, because in the crawl process,
    the one a fast crawl saturates, it cost 3% of the CPU (py-spy, bench/verify.py)."""
    if challenge_in_body(status, body):
        return None
    return parse_for_targets(body, url, content_type, x_robots_tag, targets)


def default_workers() -> int:
    """One core stays with the crawl itself; the rest parse (at most 4: the crawl's own
    process would be the limit beyond that)."""
    return max(0, min(4, (os.cpu_count() or 1) - 1))


class ParseWorkerDied(RuntimeError):
    """The worker parsing a page exited (killed, or crashed in native code)."""


class _Worker:
    """One parse process and the answers it owes, in the order the jobs were sent."""

    def __init__(self, context: Any, gc_young_threshold: int | None = None) -> None:
        ours, theirs = socket.socketpair()
        # Room in the kernel for the whole backlog: with the stock 208 KiB (five pages) the rest
        # waits in the event loop's write buffer, and a busy loop hands it over late while the
        # worker idles. The kernel caps it at net.core.wmem_max.
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _SEND_BUFFER)
        # Passed as a socket, multiprocessing hands its descriptor to the spawned child.
        self.process = context.Process(target=_serve, args=(theirs, gc_young_threshold), daemon=True,
                                       name="linkcrawler-parse")
        try:
            self.process.start()
        finally:
            theirs.close()
        self.socket = ours
        self.pending: collections.deque[asyncio.Future[ParsedPage | None]] = collections.deque()
        self.writer: asyncio.StreamWriter | None = None
        self.reader_task: asyncio.Task[None] | None = None
        self.alive = True

    async def connect(self) -> None:
        reader, self.writer = await asyncio.open_unix_connection(sock=self.socket)
        self.reader_task = asyncio.get_running_loop().create_task(self._read_answers(reader))

    def send(self, body: bytes, args: tuple[Any, ...]) -> asyncio.Future[ParsedPage | None]:
        """Ask for read_page(body, *args)."""
        assert self.writer is not None
        data = pickle.dumps(args, protocol=pickle.HIGHEST_PROTOCOL)
        future: asyncio.Future[ParsedPage | None] = asyncio.get_running_loop().create_future()
        self.pending.append(future)
        self.writer.writelines((_JOB_HEADER.pack(len(data), len(body)), data, body))
        return future

    async def _read_answers(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                size = _HEADER.unpack(await reader.readexactly(_HEADER.size))[0]
                ok, value = pickle.loads(await reader.readexactly(size))
                future = self.pending.popleft()
                if future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(RuntimeError(value))
        except (asyncio.IncompleteReadError, ConnectionError, OSError) as exc:
            self._died(f"parse worker exited ({exc.__class__.__name__})")
        except asyncio.CancelledError:
            self._died("parsing stopped")
            raise

    def _died(self, why: str) -> None:
        self.alive = False
        while self.pending:
            future = self.pending.popleft()
            if not future.done():
                future.set_exception(ParseWorkerDied(why))

    def close(self, wait: float = 0.0) -> None:
        self.alive = False
        if self.reader_task is not None:
            self.reader_task.cancel()
        try:
            self.socket.shutdown(socket.SHUT_RDWR)  # now, not when the loop next runs
        except OSError:
            pass
        if self.writer is not None:
            self.writer.close()
        else:
            self.socket.close()
        # The closed socket ends the worker's loop; reaping it counts its CPU in the crawl's.
        self.process.join(wait)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(1.0)


class PageParser:
    """Runs read_page in `workers` processes (0: in this process).

    A page goes to the worker with the fewest pages in hand, unless every worker already has
    `backlog` of them: then this process parses it, rather than leave its own core idle.
    """

    def __init__(self, workers: int, backlog: int = defaults.LINKCRAWLER_PARSE_BACKLOG,
                 gc_young_threshold: int | None = None) -> None:
        self.workers = workers
        self.backlog = backlog
        # Workers freeze their heap once warmed up, like the crawl process (linkcrawler.collector).
        self.gc_young_threshold = gc_young_threshold
        self._pool: list[_Worker] = []
        self._context = multiprocessing.get_context("spawn")
        self._starting: asyncio.Lock | None = None
        self.inline_pages = 0
        self.worker_pages = 0

    async def start(self) -> None:
        """Load lxml and the position model here and start the workers, before the first
        request: done later, they stall the event loop for a tenth of a second or more (a
        request written during the stall reaches its site late, and the next one, on time,
        then comes less than the delay after it)."""
        _warm_up()
        if self.workers > 0:
            await self._least_busy()

    async def parse(self, body: bytes, url: str, content_type: str, x_robots_tag: Sequence[str],
                    targets: Sequence[Target], status: int = 200) -> ParsedPage | None:
        """The page parsed for `targets`, or None for a bot challenge page (see read_page)."""
        worker = await self._least_busy() if self.workers > 0 else None
        if worker is None or len(worker.pending) >= self.backlog:
            self.inline_pages += 1
            return read_page(body, url, content_type, x_robots_tag, targets, status)
        self.worker_pages += 1
        return await worker.send(body, (url, content_type, tuple(x_robots_tag), tuple(targets), status))

    async def _least_busy(self) -> _Worker | None:
        dead = [w for w in self._pool if not w.alive]
        for worker in dead:
            worker.close()
            self._pool.remove(worker)
        if len(self._pool) < self.workers:
            self._starting = self._starting or asyncio.Lock()
            async with self._starting:  # pages arriving meanwhile must not start more
                while len(self._pool) < self.workers:
                    try:
                        worker = _Worker(self._context, self.gc_young_threshold)
                        await worker.connect()
                    except OSError as exc:
                        logger.warning("could not start a parse worker, parsing in the crawl process: %s", exc)
                        self.workers = len(self._pool)
                        break
                    self._pool.append(worker)
        return min(self._pool, key=lambda w: len(w.pending), default=None)

    def close(self) -> None:
        if self.inline_pages or self.worker_pages:
            # how the work was split (bench/verify.py reads it from the log)
            logger.info("pages parsed: %d by parse workers, %d in the crawl process (%.1f CPU s)",
                        self.worker_pages, self.inline_pages, time.process_time())
        for worker in self._pool:
            worker.close(wait=2.0)
        self._pool = []


def _serve(sock: socket.socket, gc_young_threshold: int | None = None) -> None:
    """A worker's life: read a job, parse, answer; until the crawl closes the socket."""
    _die_with_parent()
    _warm_up()
    if gc_young_threshold is not None:
        freeze_startup_heap(gc_young_threshold)
    stream = sock.makefile("rb")
    while True:
        header = stream.read(_JOB_HEADER.size)
        if len(header) < _JOB_HEADER.size:
            # Done: leave without tearing the interpreter down (numpy, lxml, the model), which
            # took 0.13 s of every run's end, spent waiting for this exit.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        args_size, body_size = _JOB_HEADER.unpack(header)
        args = pickle.loads(stream.read(args_size))
        body = stream.read(body_size)
        try:
            answer: tuple[bool, Any] = (True, read_page(body, *args))
        except Exception as exc:  # noqa: BLE001 - the page's result says why, the worker lives on
            answer = (False, f"{type(exc).__name__}: {exc}"[:500])
        data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        sock.sendall(_HEADER.pack(len(data)) + data)


def _warm_up() -> None:
    """Import lxml and numpy and load the position model (once per process)."""
    parse_page(b"<p><a href='/'>x</a></p>", "http://warm.up/")


def _die_with_parent() -> None:
    """A crawl killed with SIGKILL must not leave parse workers behind (holding its output
    pipes open): ask Linux to kill us with the parent, and watch the parent anyway."""
    import signal
    import threading
    import time

    parent = os.getppid()
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()
