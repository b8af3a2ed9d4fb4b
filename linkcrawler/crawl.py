"""Running a spider in this process with linkcrawler's settings plus overrides."""

from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings


def crawl_settings(overrides: dict[str, Any]) -> Settings:
    settings = Settings()
    settings.setmodule("linkcrawler.settings", priority="project")
    settings.update(overrides, priority="cmdline")
    return settings


def run_spider(spidercls: type, overrides: dict[str, Any], **spider_kwargs: Any) -> str:
    """Run one crawl to its end and return the close reason ("finished", "shutdown", ...).

    Secrets (the database URL) travel as spider arguments, never as settings, because Scrapy
    logs overridden settings.
    """
    # The CLI owns the root log handler (stderr, one format for every command).
    settings = crawl_settings({"LOG_INSTALL_ROOT_HANDLER": False, **overrides})
    process = CrawlerProcess(settings)
    # Scrapy's logging config sets its own loggers to DEBUG; LOG_LEVEL must win.
    for name in ("scrapy", "twisted"):
        logging.getLogger(name).setLevel(settings.get("LOG_LEVEL"))
    crawler = process.create_crawler(spidercls)
    process.crawl(crawler, **spider_kwargs)
    process.start()
    return str(crawler.stats.get_value("finish_reason") or "unknown")
