"""Download handlers for the stalled-event-loop politeness test (loaded by the crawl harness).

A crawl's event loop stalls now and then (a page parsed in the crawl process, a database
commit). These handlers make one stall of STALL seconds start exactly between the moment a
request's connection is handed over and the moment its bytes leave, the worst place for pacing.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from linkcrawler.scheduler import Pacer
from linkcrawler.transport import PacedHTTPDownloadHandler

STALL = 0.15


class StallingHandler(PacedHTTPDownloadHandler):
    """Every other request is sent STALL late (a stall on every one would delay all sends
    alike and leave the gaps between them as they were)."""

    stalls = 0

    def _connection_ready(self, connection: Any, pacer: Pacer, slot: str) -> Any:
        StallingHandler.stalls += 1
        if StallingHandler.stalls % 2:
            # Queued before the loop's next I/O pass, in which the request is sent.
            asyncio.get_running_loop().call_soon(time.sleep, STALL)
        return super()._connection_ready(connection, pacer, slot)


class StallingEarlyStampHandler(StallingHandler):
    """The feature off: no stamp once the bytes have left."""

    def _stamp_after_send(self, pacer: Pacer, slot: str) -> None:
        return None
