"""The crawl process and parse workers freeze their startup heap out of the collector's reach."""

from __future__ import annotations

import subprocess
import sys

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from linkcrawler.collector import GarbageCollectorTuning


def test_the_extension_freezes_the_heap_when_the_engine_starts() -> None:
    # In a child: freezing is for the life of a process, and pytest's own must not be touched.
    code = (
        "import gc\n"
        "from scrapy.utils.test import get_crawler\n"
        "from linkcrawler.collector import GarbageCollectorTuning\n"
        "ext = GarbageCollectorTuning.from_crawler(get_crawler(settings_dict={'LINKCRAWLER_GC_FREEZE': True,"
        " 'LINKCRAWLER_GC_YOUNG_THRESHOLD': 12345}))\n"
        "before = gc.get_freeze_count()\n"
        "ext.engine_started()\n"
        "print(before, gc.get_freeze_count() > 10000, gc.get_threshold()[0])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["0", "True", "12345"]


def test_it_is_off_when_the_setting_is() -> None:
    crawler = get_crawler(settings_dict={"LINKCRAWLER_GC_FREEZE": False})
    with pytest.raises(NotConfigured):
        GarbageCollectorTuning.from_crawler(crawler)
