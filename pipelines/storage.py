"""Storing results: batched inserts, a run heartbeat, and the run's final state.

Results are buffered and written in batches (one transaction per batch, not per item); a
failed write keeps the batch and is retried, so a database outage shorter than
LINKCRAWLER_DB_OUTAGE_SECONDS loses nothing; a longer one closes the spider, and the run is
not marked complete.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from sqlalchemy.exc import DBAPIError, OperationalError

from linkcrawler.commands import mask_secrets
from linkcrawler.enums import RunState
from linkcrawler.runs import count_pending, finish_run, heartbeat, save_results
from linkcrawler.verification import VerifiedResult

logger = logging.getLogger(__name__)

DATABASE_UNAVAILABLE = "database_unavailable"


class ResultStoragePipeline:
    def __init__(self, crawler: Any, batch_size: int, batch_seconds: float, outage_seconds: float) -> None:
        self.crawler = crawler
        self.batch_size = batch_size
        self.batch_seconds = batch_seconds
        self.outage_seconds = outage_seconds
        self.buffer: list[VerifiedResult] = []
        self.outage_since: float | None = None
        self.written = 0
        self._timer: Any = None
        self._closing = False

    @classmethod
    def from_crawler(cls, crawler: Any) -> ResultStoragePipeline:
        if crawler.spidercls.name != "verify":
            raise NotConfigured("results are stored by the verify spider only")
        settings = crawler.settings
        pipeline = cls(
            crawler,
            settings.getint("LINKCRAWLER_BATCH_SIZE"),
            settings.getfloat("LINKCRAWLER_BATCH_SECONDS"),
            settings.getfloat("LINKCRAWLER_DB_OUTAGE_SECONDS"),
        )
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    @property
    def spider(self) -> Any:
        return self.crawler.spider

    def open_spider(self) -> None:
        from twisted.internet import task

        self._timer = task.LoopingCall(self._tick)
        self._timer.start(self.batch_seconds, now=False)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, VerifiedResult):
            self.buffer.append(item)
            if len(self.buffer) >= self.batch_size:
                self.flush()
        return item

    def _tick(self) -> None:
        if self.buffer:
            self.flush()
        else:
            self._write(lambda session: heartbeat(session, self.spider.run_id))

    def _write(self, work: Any) -> bool:
        try:
            with self.spider.database.sessions.begin() as session:
                work(session)
        except (OperationalError, DBAPIError) as exc:
            now = time.monotonic()
            self.outage_since = self.outage_since or now
            logger.warning("database write failed, will retry: %s", mask_secrets(str(exc.orig)))
            if now - self.outage_since > self.outage_seconds and self.crawler.engine and not self._closing:
                # Scrapy's coroutines await asyncio futures: run them the way Scrapy does.
                from scrapy.utils.defer import deferred_from_coro

                self._closing = True
                deferred_from_coro(self.crawler.engine.close_spider_async(reason=DATABASE_UNAVAILABLE))
            return False
        self.outage_since = None
        return True

    def flush(self) -> None:
        batch = self.buffer
        run_id = self.spider.run_id

        def work(session: Any) -> None:
            save_results(session, run_id, batch)
            heartbeat(session, run_id)

        if self._write(work):
            self.written += len(batch)
            self.buffer = []

    def close_spider(self) -> None:
        self._closing = True  # the spider is closing already: never ask for it again
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        deadline = time.monotonic() + self.outage_seconds
        while self.buffer and time.monotonic() < deadline:
            self.flush()
            if self.buffer:
                time.sleep(1.0)

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.buffer:
            logger.error("%d results could not be stored; the run stays unfinished", len(self.buffer))
        database, run_id = spider.database, spider.run_id

        def work(session: Any) -> None:
            if reason == "finished" and not self.buffer:
                from linkcrawler.db import Run

                run = session.get(Run, run_id)
                pages, backlinks = count_pending(session, run)
                state = RunState.COMPLETED if backlinks == 0 else RunState.INTERRUPTED
                error = None if backlinks == 0 else f"{backlinks} backlinks were left unchecked"
            elif reason in ("shutdown", "cancelled"):
                state, error = RunState.INTERRUPTED, f"stopped ({reason}); resume with verify --resume"
            else:
                state, error = RunState.ABORTED, f"aborted: {reason}"
            finish_run(session, run_id, state, error)

        try:
            with database.sessions.begin() as session:
                work(session)
        except (OperationalError, DBAPIError) as exc:
            logger.error("could not record the end of run %s: %s", run_id, mask_secrets(str(exc.orig)))
