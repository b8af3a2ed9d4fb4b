"""The HTTP download handler, stamping each site's pacing clock as the request really starts."""

from __future__ import annotations

import asyncio
import weakref
from contextvars import ContextVar
from typing import Any

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler

from linkcrawler.scheduler import Pacer


class _Pacing:
    """The pacing of the request being handed to Twisted, read by the connection pool in the
    same synchronous call chain."""

    __slots__ = ("new_connection", "pacer", "slot")

    def __init__(self, pacer: Pacer, slot: str) -> None:
        self.pacer = pacer
        self.slot = slot
        self.new_connection = False


_PACING: ContextVar[_Pacing | None] = ContextVar("linkcrawler_pacing", default=None)


def _stamp(pacer: Pacer, slot: str) -> None:
    now = pacer.clock()
    last = pacer.state(slot).last_start
    if last is None or now > last:
        pacer.started(slot, now)


class PacedHTTPDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler; a site's last request start is stamped when the handler takes
    the request, again when its connection is ready (after DNS and connect), once its bytes
    have left, and, if it had to open a connection, when its response is in. A gap counted
    from an earlier stamp would let the site see the next request (on a connection already
    open, sent on time) closer than the delay after this one, whenever DNS, the connect, a TLS
    handshake (during which the request waits in the TLS layer, unsent) or the event loop was
    slow. The last stamp costs one response time per new connection, about once per site."""

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self._pacer = getattr(crawler, "lc_pacer", None)
        self._known_connections: weakref.WeakSet[Any] = weakref.WeakSet()
        get_connection = self._pool.getConnection

        def paced_get_connection(key: Any, endpoint: Any) -> Any:
            connection = get_connection(key, endpoint)
            pacing = _PACING.get()
            if pacing is not None:
                connection.addCallback(self._connection_ready, pacing)
            return connection

        # Twisted's pool has no hook for "connection handed to a request": wrap its one door.
        self._pool.getConnection = paced_get_connection

    async def download_request(self, request: Any) -> Any:
        pacer = self._pacer or getattr(self._crawler, "lc_pacer", None)
        if pacer is None:
            return await super().download_request(request)
        pacing = _Pacing(pacer, pacer.slot_of(request))
        _stamp(pacer, pacing.slot)
        token = _PACING.set(pacing)
        try:
            return await super().download_request(request)
        finally:
            _PACING.reset(token)
            if pacing.new_connection:
                self._stamp_response_in(pacer, pacing.slot)

    def _connection_ready(self, connection: Any, pacing: _Pacing) -> Any:
        # The pool hands a reused connection over in a fresh retrying wrapper: look inside it.
        protocol = getattr(connection, "_clientProtocol", connection)
        if protocol not in self._known_connections:  # not from the pool: opened for this request
            self._known_connections.add(protocol)
            pacing.new_connection = True
        _stamp(pacing.pacer, pacing.slot)
        self._stamp_after_send(pacing.pacer, pacing.slot)
        return connection

    def _stamp_response_in(self, pacer: Pacer, slot: str) -> None:
        _stamp(pacer, slot)

    def _stamp_after_send(self, pacer: Pacer, slot: str) -> None:
        # The request is written to the connection right after _connection_ready, but the
        # bytes leave when the event loop next finds the socket writable: in the loop iteration
        # after this one, among its I/O callbacks. A callback queued now runs before those; one
        # it queues runs after them, i.e. after the send. If the loop stalls in between (a page
        # parsed here, a database commit), the stamp moves with the send.
        loop = asyncio.get_running_loop()
        loop.call_soon(loop.call_soon, _stamp, pacer, slot)
