"""Reading the next rows of a file while the database stores the previous ones.

Checking rows (CSV parsing, URL normalisation) is Python and holds the GIL; storing them is
mostly SQLite's or PostgreSQL's own work, during which the driver releases the GIL. A reader
thread therefore overlaps the two, which is a third off a large import on two cores.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_END = object()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def prefetched(items: Iterable[T], *, chunk: int = 2000, depth: int = 8) -> Iterator[T]:
    """The items of `items`, produced by a background thread in chunks, at most `depth`
    chunks ahead. An exception in the producer is raised here; closing this iterator stops
    the producer."""
    q: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(value: object) -> bool:
        while not stop.is_set():
            try:
                q.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            buffer: list[T] = []
            for item in items:
                buffer.append(item)
                if len(buffer) >= chunk:
                    if not put(buffer):
                        return
                    buffer = []
            if put(buffer):
                put(_END)
        except BaseException as exc:  # noqa: BLE001 - handed to the consuming thread
            put(_Failure(exc))

    thread = threading.Thread(target=produce, name="import-reader", daemon=True)
    thread.start()
    try:
        while True:
            got = q.get()
            if got is _END:
                return
            if isinstance(got, _Failure):
                raise got.exc
            yield from got  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()
