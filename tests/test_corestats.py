"""CoreTimes: Scrapy's run times and finish reason, without per-item or per-response receivers."""

from __future__ import annotations

from scrapy import signals
from scrapy.utils.test import get_crawler

from linkcrawler import settings as defaults
from linkcrawler.corestats import CoreTimes


def test_sets_the_times_and_reason_and_counts_nothing_per_item() -> None:
    crawler = get_crawler(settings_dict={"EXTENSIONS_BASE": {"linkcrawler.corestats.CoreTimes": 0}})
    [ext] = crawler.extensions.middlewares
    assert isinstance(ext, CoreTimes)
    crawler.stats.open_spider()
    crawler.signals.send_catch_log(signals.spider_opened, spider=None)
    crawler.signals.send_catch_log(signals.item_scraped, item={}, response=None, spider=None)
    crawler.signals.send_catch_log(signals.response_received, response=None, request=None, spider=None)
    crawler.signals.send_catch_log(signals.spider_closed, spider=None, reason="finished")
    stats = crawler.stats.get_stats()
    assert set(stats) == {"start_time", "finish_time", "elapsed_time_seconds", "finish_reason"}
    assert stats["finish_reason"] == "finished"
    assert stats["elapsed_time_seconds"] >= 0


def test_it_replaces_the_stock_core_stats() -> None:
    assert "linkcrawler.corestats.CoreTimes" in defaults.EXTENSIONS_BASE
    assert not any("corestats.CoreStats" in name or "remote_control" in name for name in defaults.EXTENSIONS_BASE)
