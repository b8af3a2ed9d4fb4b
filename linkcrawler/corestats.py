"""Scrapy's core stats without its per-item and per-response counters.

A crawl's figures are in the database (results per run); what the runner reads from Scrapy's
stats is when the crawl started and ended and why (`finish_reason`). The stock CoreStats also
answers every item_scraped and response_received signal, each through pydispatch's
per-call signature inspection, to count what nobody reads: 1.2% of the crawl process's CPU
in a throughput run (py-spy, bench/verify.py).
"""

from __future__ import annotations

from typing import Any

from scrapy import signals
from scrapy.extensions.corestats import CoreStats


class CoreTimes(CoreStats):
    """start_time, finish_time, elapsed_time_seconds and finish_reason, as CoreStats sets them."""

    @classmethod
    def from_crawler(cls, crawler: Any) -> CoreTimes:
        ext = cls(crawler.stats)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext
