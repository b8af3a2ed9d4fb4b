"""PageParser: parse workers give the crawl process's own answer, and a dead worker costs only
its own pages."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from linkcrawler.extraction import parse_page
from linkcrawler.parsing import PageParser, ParseWorkerDied, parse_for_targets, read_page
from linkcrawler.urls import parse_target
from linkcrawler.verification import may_link_to

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


# --- the verifier's shortcut agrees with a full parse ------------------------------------------

ALL_PAGES = sorted((FIXTURES.parent / "extraction").rglob("*.html")) + sorted((FIXTURES.parent / "position").glob("*.html"))
EXTRA_HREFS = FIXTURES / "hrefs_that_look_plain.html"


def targets_for(page: bytes, url: str) -> list[tuple]:
    """Targets each page is checked against: a site its links reach, the page's own site (so
    relative links count), a site it never links to, and a mix."""
    full = parse_page(page, url)
    hosts = [link.url.split("/")[2].split(":")[0] for link in full.links if link.url and "://" in link.url]
    hosts = [h for h in hosts if len(h) < 100 and _valid_target(f"https://{h}/")]
    some = hosts[len(hosts) // 2] if hosts else "example.org"
    return [
        (parse_target(f"https://{some}/"),),
        (parse_target(url),),
        (parse_target("https://nowhere-else.example/page"),),
        (parse_target("https://nowhere-else.example/"), parse_target(f"http://{some}/x")),
    ]


def _valid_target(url: str) -> bool:
    try:
        parse_target(url)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("path", [*ALL_PAGES, EXTRA_HREFS], ids=lambda p: p.name)
def test_kept_links_equal_the_full_parse_filtered(path: Path) -> None:
    page = path.read_bytes()
    url = "https://www.blog.example/dir/page.html"
    full = parse_page(page, url)
    assert len(ALL_PAGES) > 150
    for targets in targets_for(page, url):
        keep = may_link_to(targets)
        want = [link for link in full.links if keep(link.url)]
        got = parse_for_targets(page, url, "text/html", (), targets)
        assert [(link.url, link.anchor_text, link.context_before, link.context_after, link.rel, link.hidden)
                for link in got.links] == [
               (link.url, link.anchor_text, link.context_before, link.context_after, link.rel, link.hidden)
               for link in want], targets
        assert got.info == full.info


def test_hrefs_that_only_look_plain_get_the_full_treatment() -> None:
    page = EXTRA_HREFS.read_bytes()
    url = "https://www.blog.example/dir/page.html"
    got = parse_for_targets(page, url, "text/html", (), (parse_target("https://shop.example/"),))
    assert [(link.anchor_text, link.url) for link in got.links] == [
        ("slash backslash is scheme-relative", "https://shop.example/beans"),
        ("slash tab slash is scheme-relative", "https://shop.example/beans"),
        ("newline inside the host", "http://shop.example/"),
        ("upper case", "http://shop.example/"),
        ("percent-encoded host", "http://shop.example/"),
        ("special scheme without slashes", "http://shop.example/x"),
        ("one slash", "http://shop.example/x"),
        ("spaces around", "https://shop.example/"),
        ("userinfo and port", "https://user:pw@shop.example/"),
        ("trailing dot", "https://shop.example./"),
        ("protocol-relative", "https://shop.example/beans"),
        ("relative", "https://shop.example/store/beans?x=1"),
        ("relative after a late base", "https://shop.example/store/late-base-applies"),
    ]


def test_a_bot_challenge_body_is_not_parsed_in_a_worker_or_here() -> None:
    page = (FIXTURES / "bot_challenge_page.html").read_bytes()

    async def main() -> list:
        parser = PageParser(workers=1, backlog=100)
        try:
            in_worker = await parser.parse(page, URL, "text/html", (), TARGETS, 200)
            parser.backlog = 0  # the next page is parsed in this process
            here = await parser.parse(page, URL, "text/html", (), TARGETS, 200)
            return [in_worker, here, parser.worker_pages, parser.inline_pages]
        finally:
            parser.close()

    assert asyncio.run(main()) == [None, None, 1, 1]
    # Only statuses a challenge comes with count: a 2xx other than 200 is the page itself.
    assert read_page(page, URL, "text/html", (), TARGETS, 203) == parse_for_targets(page, URL, "text/html", (), TARGETS)
