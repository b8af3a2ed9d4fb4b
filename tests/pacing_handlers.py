"""Download handlers for the pacing tests that need the worst timing on purpose, and their
feature-off twins (loaded by the crawl harness by name).

A crawl's event loop stalls now and then (a page parsed in the crawl process, a database
commit): StallingHandler makes a stall of STALL seconds start exactly between the moment a
request's connection is handed over and the moment its bytes leave, the worst place for pacing.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from linkcrawler.scheduler import Pacer
from linkcrawler.transport import PacedHTTPDownloadHandler

__all__ = ["NoResponseStampHandler", "PacedHTTPDownloadHandler", "StallingEarlyStampHandler", "StallingHandler"]

STALL = 0.15


class StallingHandler(PacedHTTPDownloadHandler):
    """Every other request is sent STALL late (a stall on every one would delay all sends
    alike and leave the gaps between them as they were)."""

    stalls = 0

    def _connection_ready(self, connection: Any, pacing: Any) -> Any:
        StallingHandler.stalls += 1
        if StallingHandler.stalls % 2:
            # Queued before the loop's next I/O pass, in which the request is sent.
            asyncio.get_running_loop().call_soon(time.sleep, STALL)
        return super()._connection_ready(connection, pacing)


class StallingEarlyStampHandler(StallingHandler):
    """The feature off: no stamp once the bytes have left."""

    def _stamp_after_send(self, pacer: Pacer, slot: str) -> None:
        return None


class NoResponseStampHandler(PacedHTTPDownloadHandler):
    """The feature off: a request that opened a connection is not stamped again when its
    response is in."""

    def _stamp_response_in(self, pacer: Pacer, slot: str) -> None:
        return None
