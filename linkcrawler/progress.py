"""Progress of a run on stderr: a live bar on a terminal, periodic plain lines otherwise."""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import Any, TextIO

from scrapy import signals
from scrapy.exceptions import NotConfigured

from linkcrawler.verification import VerifiedResult


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


class ProgressExtension:
    def __init__(self, total: int, interval: float, stream: TextIO) -> None:
        self.total = total
        self.stream = stream
        self.live = stream.isatty()
        # A terminal gets a bar redrawn in place; a log file gets a line now and then.
        self.interval = 0.5 if self.live else interval
        self.counts: Counter[str] = Counter()
        self.started = time.monotonic()
        self._timer: Any = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> ProgressExtension:
        settings = crawler.settings
        if not settings.getbool("LINKCRAWLER_PROGRESS"):
            raise NotConfigured
        ext = cls(settings.getint("LINKCRAWLER_PROGRESS_TOTAL"),
                  settings.getfloat("LINKCRAWLER_PROGRESS_INTERVAL"), sys.stderr)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def item_scraped(self, item: Any) -> None:
        if isinstance(item, VerifiedResult):
            self.counts[item.status.value] += 1

    def spider_opened(self) -> None:
        from twisted.internet import task

        self.started = time.monotonic()
        self._timer = task.LoopingCall(self.render)
        self._timer.start(self.interval, now=False)

    def spider_closed(self) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        self.render(final=True)

    def line(self) -> str:
        done = sum(self.counts.values())
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = done / elapsed
        parts = [f"{done}/{self.total or '?'} backlinks"]
        parts += [f"{k} {self.counts[k]}" for k in ("live", "lost", "unverified")]
        parts.append(f"{rate:.1f}/s")
        if self.total and rate > 0 and done < self.total:
            parts.append(f"ETA {_duration((self.total - done) / rate)}")
        parts.append(f"elapsed {_duration(elapsed)}")
        return "  ".join(parts)

    def render(self, final: bool = False) -> None:
        text = self.line()
        if self.live:
            done = sum(self.counts.values())
            width = 24
            filled = int(width * done / self.total) if self.total else 0
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\r[{bar}] {text}\x1b[K" + ("\n" if final else ""))
        else:
            self.stream.write(f"progress: {text}\n")
        self.stream.flush()
