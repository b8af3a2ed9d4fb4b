"""Parsing referring pages off the reactor: in worker processes when the machine has cores
to spare, so fetching, pacing and storage never wait for lxml and the position classifier.

Parsing is CPU-bound and pure (bytes in, a frozen ParsedPage out), so it moves to another
process without changing a single result: the same `parse_page`, the same decisions.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from linkcrawler.extraction import ParsedPage, parse_page
from linkcrawler.urls import Target
from linkcrawler.verification import may_link_to


def parse_for_targets(body: bytes, url: str, content_type: str, x_robots_tag: Sequence[str],
                      targets: Sequence[Target]) -> ParsedPage:
    """parse_page with positions classified for the links that may reach `targets` only."""
    return parse_page(body, url, content_type=content_type, x_robots_tag=list(x_robots_tag),
                      classify=may_link_to(targets))


def default_workers() -> int:
    """One core stays with the crawl itself; the rest parse (at most 4: the crawl's own
    process would be the limit beyond that)."""
    return max(0, min(4, (os.cpu_count() or 1) - 1))


class PageParser:
    """Runs parse_for_targets in `workers` processes (0: in this process)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: the crawl process has threads and a running event loop.
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_warm_up)
        return self._pool

    async def parse(self, body: bytes, url: str, content_type: str, x_robots_tag: Sequence[str],
                    targets: Sequence[Target]) -> ParsedPage:
        if self.workers <= 0:
            return parse_for_targets(body, url, content_type, x_robots_tag, targets)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor(), parse_for_targets, body, url, content_type,
                                          tuple(x_robots_tag), tuple(targets))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _warm_up() -> Any:
    _die_with_parent()
    # Load the position model and lxml once per worker, not on its first page.
    parse_page(b"<a href='/'>x</a>", "http://warm.up/")


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
