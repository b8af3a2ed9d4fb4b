"""Python's cyclic garbage collector, tuned for a long crawl.

A crawl process holds a large, long-lived heap (Scrapy, Twisted, SQLAlchemy, the public-suffix
trie, the robots and target caches) and allocates a stream of short-lived objects per response.
With the stock thresholds every full collection walks that whole heap again: 10 of them cost
0.8 s of a 12 s throughput run (bench/verify.py, gc.callbacks timing), for almost nothing
found. Freezing what exists once the crawl starts takes it out of every later collection;
reference counting still frees it as usual, only cycles among frozen objects are never found.
"""

from __future__ import annotations

import gc
from typing import Any


def freeze_startup_heap(young_threshold: int) -> None:
    """Move every object to the permanent generation, and let `young_threshold` allocations
    pass between young collections.

    No collection first: at this point one finds nothing to free (0 objects after imports, the
    position model and a parse) and costs 50 ms of every start."""
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young_threshold, middle, old)


class GarbageCollectorTuning:
    """Freezes the startup heap when the engine starts (LINKCRAWLER_GC_FREEZE)."""

    def __init__(self, young_threshold: int) -> None:
        self.young_threshold = young_threshold

    @classmethod
    def from_crawler(cls, crawler: Any) -> GarbageCollectorTuning:
        # Imported here: parse workers use freeze_startup_heap and must not load Scrapy.
        from scrapy import signals
        from scrapy.exceptions import NotConfigured

        settings = crawler.settings
        if not settings.getbool("LINKCRAWLER_GC_FREEZE"):
            raise NotConfigured
        ext = cls(settings.getint("LINKCRAWLER_GC_YOUNG_THRESHOLD"))
        crawler.signals.connect(ext.engine_started, signal=signals.engine_started)
        return ext

    def engine_started(self) -> None:
        freeze_startup_heap(self.young_threshold)
