"""PageParser: parse workers give the crawl process's own answer, and a dead worker costs only
its own pages."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from linkcrawler.extraction import parse_page
from linkcrawler.parsing import PageParser, ParseWorkerDied, parse_for_targets
from linkcrawler.urls import parse_target

FIXTURES = Path(__file__).parent / "fixtures" / "parsing"
PAGE = (FIXTURES / "article_with_target_links.html").read_bytes()
URL = "https://blog.example/posts/coffee"
TARGETS = (parse_target("https://shop.example/beans"),)


def test_keeps_only_the_links_that_may_reach_the_targets_in_document_order() -> None:
    everything = parse_page(PAGE, URL)
    kept = parse_for_targets(PAGE, URL, "text/html", (), TARGETS)
    assert [link.url for link in kept.links] == [
        "https://shop.example/", "https://shop.example/beans", "https://www.shop.example/beans?ref=sidebar",
    ]
    by_url = {link.url: link for link in everything.links}
    for link in kept.links:  # the same link, position included, as a full parse gives
        assert link == by_url[link.url]
    assert kept.info == everything.info


def test_worker_answers_equal_the_crawl_process_own() -> None:
    async def main() -> list:
        parser = PageParser(workers=1, backlog=100)
        try:
            return [await parser.parse(PAGE, URL, "text/html", (), TARGETS) for _ in range(3)]
        finally:
            parser.close()

    answers = asyncio.run(main())
    assert answers == [parse_for_targets(PAGE, URL, "text/html", (), TARGETS)] * 3


def test_a_killed_worker_fails_only_its_pages_and_is_replaced() -> None:
    async def main() -> tuple[object, object]:
        parser = PageParser(workers=1, backlog=100)
        try:
            await parser.parse(PAGE, URL, "text/html", (), TARGETS)  # the worker is up
            worker = parser._pool[0]
            os.kill(worker.process.pid, signal.SIGKILL)
            with pytest.raises(ParseWorkerDied):
                await parser.parse(PAGE, URL, "text/html", (), TARGETS)
            after = await parser.parse(PAGE, URL, "text/html", (), TARGETS)
            return after, parser._pool[0] is not worker
        finally:
            parser.close()

    after, replaced = asyncio.run(main())
    assert after == parse_for_targets(PAGE, URL, "text/html", (), TARGETS)
    assert replaced


def test_pages_beyond_the_backlog_are_parsed_in_the_crawl_process() -> None:
    async def main() -> tuple[list, int]:
        parser = PageParser(workers=1, backlog=1)
        try:
            await parser.parse(PAGE, URL, "text/html", (), TARGETS)
            answers = await asyncio.gather(*(parser.parse(PAGE, URL, "text/html", (), TARGETS) for _ in range(4)))
            return answers, parser.inline_pages
        finally:
            parser.close()

    answers, inline = asyncio.run(main())
    assert answers == [parse_for_targets(PAGE, URL, "text/html", (), TARGETS)] * 4
    assert inline == 3  # one page in the worker's hands, the other three parsed here


def test_no_workers_parses_in_the_crawl_process() -> None:
    async def main() -> object:
        parser = PageParser(workers=0)
        return await parser.parse(PAGE, URL, "text/html", (), TARGETS)

    assert asyncio.run(main()) == parse_for_targets(PAGE, URL, "text/html", (), TARGETS)
