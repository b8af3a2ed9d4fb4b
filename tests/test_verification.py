"""The decision of one backlink's result from fetched facts (pure: no crawl, no database)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from linkcrawler.enums import ExpectedRel, Position, Reason, Status
from linkcrawler.extraction import Link, PageInfo, ParsedPage
from linkcrawler.urls import parse_target
from linkcrawler.verification import (
    BacklinkSpec,
    PageFetch,
    TargetCheck,
    assess_page,
    failed_result,
    matching_links,
    reason_for_status,
)

TODAY = dt.date(2026, 11, 24)
PAGE = "https://blog.example.org/post"


def link(url: str, *, rel: tuple[str, ...] = (), position: Position = Position.BODY, anchor: str = "Acme",
         hidden: bool = False) -> Link:
    return Link(
        href=url, url=url, anchor_text=anchor, img_alt="", rel=rel, nofollow="nofollow" in rel,
        sponsored="sponsored" in rel, ugc="ugc" in rel, position=position, hidden=hidden,
        context_before="see", context_after="now", path="html/body/p/a", position_signal="test",
    )


def info(**changes: object) -> PageInfo:
    base = PageInfo(title="Post", meta_robots=(), x_robots_tag=(), noindex=False, page_nofollow=False,
                    canonical=None, content_type="text/html", bytes=1000, base_url=PAGE)
    return replace(base, **changes)


def spec(target: str, **changes: object) -> BacklinkSpec:
    return replace(BacklinkSpec(id=7, source_url=PAGE, target=parse_target(target)), **changes)


FETCH = PageFetch(http_status=200, final_url=PAGE, redirects=(), attempts=1, googlebot_allowed=True)


def decide(s: BacklinkSpec, links: list[Link], page: PageInfo | None = None,
           fetch: PageFetch = FETCH, checks: dict[str, TargetCheck] | None = None):
    page = page or info()
    parsed = ParsedPage(links=tuple(links), info=page)
    return assess_page(s, fetch, parsed, matching_links(s.target, parsed.links, page), checks or {}, TODAY)


def test_found_link_with_target_check_gives_the_whole_result() -> None:
    check = TargetCheck(status=200, final_url="https://acme.test/p", redirects=({"url": "http://acme.test/p",
                                                                               "status": 301},))
    result = decide(spec("https://acme.test/p"), [link("http://other.test/"), link("https://acme.test/p")],
                    checks={"https://acme.test/p": check})
    assert result.status is Status.LIVE and result.reason is Reason.FOUND
    assert result.follow is True and result.indexable is True and result.googlebot_allowed is True
    assert result.http_status == 200 and result.final_url == PAGE and result.redirects == ()
    assert result.unmet == () and result.error is None and result.attempts == 1
    assert result.page == {"title": "Post", "meta_robots": [], "x_robots_tag": [], "noindex": False,
                           "page_nofollow": False, "canonical": None, "content_type": "text/html",
                           "bytes": 1000}
    assert result.links == ({
        "href": "https://acme.test/p", "url": "https://acme.test/p", "anchor_text": "Acme", "img_alt": "",
        "rel": [], "nofollow": False, "sponsored": False, "ugc": False, "position": "body",
        "hidden": False, "context_before": "see", "context_after": "now", "path": "html/body/p/a",
        "match": "exact", "target_status": 200, "target_final_url": "https://acme.test/p",
        "target_redirects": [{"url": "http://acme.test/p", "status": 301}],
    },)


def test_links_are_ordered_best_first() -> None:
    links = [
        link("https://acme.test/other", anchor="domain-only"),
        link("https://acme.test/p", rel=("nofollow",), anchor="nofollow-body"),
        link("https://acme.test/p", position=Position.FOOTER, anchor="follow-footer"),
        link("https://acme.test/p", anchor="follow-body"),
        link("https://acme.test/p/", anchor="equivalent-body"),
    ]
    result = decide(spec("https://acme.test/p"), links)
    assert [l["anchor_text"] for l in result.links] == [
        "follow-body", "equivalent-body", "follow-footer", "nofollow-body", "domain-only"]
    assert result.follow is True


@pytest.mark.parametrize(
    ("links", "fetch", "reason"),
    [
        ([link("https://acme.test/other")], FETCH, Reason.TARGET_CHANGED),
        ([link("https://unrelated.test/")], FETCH, Reason.LINK_REMOVED),
        ([], replace(FETCH, final_url="https://blog.example.org/new-home",
                     redirects=({"url": PAGE, "status": 301},)), Reason.PAGE_REDIRECTED),
        ([], replace(FETCH, final_url="https://blog.example.org/post/",
                     redirects=({"url": PAGE, "status": 301},)), Reason.LINK_REMOVED),
    ],
    ids=["target-changed", "link-removed", "redirected-elsewhere", "redirect-to-equivalent-url"],
)
def test_reason_when_the_expected_link_is_missing(links: list[Link], fetch: PageFetch, reason: Reason) -> None:
    result = decide(spec("https://acme.test/p"), links, fetch=fetch)
    assert result.reason is reason and result.status is reason.status


def test_page_level_nofollow_and_noindex() -> None:
    result = decide(spec("acme.test"), [link("https://www.acme.test/")], page=info(page_nofollow=True, noindex=True))
    assert (result.reason, result.follow, result.indexable) == (Reason.FOUND, False, False)


@pytest.mark.parametrize(
    ("canonical", "indexable"),
    [(None, True), (PAGE, True), ("http://blog.example.org/post/", True), ("https://blog.example.org/", False)],
    ids=["absent", "self", "self-equivalent", "elsewhere"],
)
def test_canonical_decides_indexable(canonical: str | None, indexable: bool) -> None:
    result = decide(spec("acme.test"), [link("https://acme.test/")], page=info(canonical=canonical))
    assert result.indexable is indexable


@pytest.mark.parametrize(
    ("changes", "links", "unmet"),
    [
        ({"expected_anchor": "ACME  "}, [link("https://acme.test/")], ()),
        ({"expected_anchor": "Best widgets"}, [link("https://acme.test/")], ("anchor",)),
        ({"expected_rel": ExpectedRel.FOLLOW}, [link("https://acme.test/", rel=("ugc",))], ("rel",)),
        ({"expected_rel": ExpectedRel.SPONSORED}, [link("https://acme.test/", rel=("sponsored",))], ()),
        ({"expected_rel": ExpectedRel.ANY}, [link("https://acme.test/", rel=("nofollow",))], ()),
        ({"expires": dt.date(2026, 11, 1)}, [link("https://acme.test/")], ("expired",)),
        ({"expected_anchor": "x", "expected_rel": ExpectedRel.NOFOLLOW, "expires": dt.date(2020, 1, 1)},
         [link("https://acme.test/")], ("anchor", "rel", "expired")),
    ],
    ids=["anchor-ok-case-space", "anchor-wrong", "rel-follow-unmet", "rel-sponsored-ok", "rel-any", "expired",
         "all-three"],
)
def test_unmet_expectations(changes: dict[str, object], links: list[Link], unmet: tuple[str, ...]) -> None:
    assert decide(spec("acme.test", **changes), links).unmet == unmet


def test_failed_result_keeps_fetch_facts() -> None:
    fetch = PageFetch(http_status=404, final_url=PAGE, redirects=(), attempts=2, googlebot_allowed=False)
    result = failed_result(spec("acme.test"), Reason.PAGE_NOT_FOUND, "HTTP 404", fetch, TODAY)
    assert (result.status, result.reason, result.http_status, result.attempts, result.error,
            result.googlebot_allowed, result.links, result.follow) == (
        Status.LOST, Reason.PAGE_NOT_FOUND, 404, 2, "HTTP 404", False, (), None)


@pytest.mark.parametrize(
    ("status", "reason"),
    [(200, None), (204, None), (404, Reason.PAGE_NOT_FOUND), (410, Reason.PAGE_GONE), (401, Reason.BLOCKED),
     (403, Reason.BLOCKED), (429, Reason.BLOCKED), (400, Reason.PAGE_ERROR), (500, Reason.PAGE_ERROR),
     (302, Reason.PAGE_ERROR)],
)
def test_reason_for_status(status: int, reason: Reason | None) -> None:
    assert reason_for_status(status) is reason


@pytest.mark.parametrize(
    ("status", "headers", "body", "challenge"),
    [
        (403, {b"cf-mitigated": b"challenge"}, b"", True),
        (503, {}, b"<html><head><title>Just a moment...</title></head><body>"
                  b"<script src='/cdn-cgi/challenge-platform/h/b/orchestrate/jsch/v1'></script>", True),
        (200, {}, b"<html><title>Pardon Our Interruption</title>", True),
        (403, {}, b"<html><script src='https://geo.captcha-delivery.com/captcha/'></script>", True),
        (200, {}, b"<html><title>Blog</title><p>We wrote about Cloudflare's Just a moment page.</p>", False),
        (404, {}, b"<title>Just a moment...</title>", False),
        (200, {}, b"<title>Just a moment...</title>" + b"x" * 300_000, False),
    ],
    ids=["cf-mitigated-header", "cloudflare-503", "distil-200", "datadome-403", "article-mentioning-it",
         "404-is-not-a-challenge", "large-page"],
)
def test_bot_challenge_pages(status: int, headers: dict[bytes, bytes], body: bytes, challenge: bool) -> None:
    from linkcrawler.verification import is_bot_challenge

    assert is_bot_challenge(status, headers, body) is challenge


def test_classifying_only_links_to_the_target_gives_them_the_same_decisions() -> None:
    """The verifier classifies only links that may reach the target's site; those links get
    exactly the positions a full classification gives them."""
    import gzip
    import json
    from pathlib import Path

    from linkcrawler.extraction import parse_page
    from linkcrawler.position import NOT_CLASSIFIED
    from linkcrawler.verification import may_link_to

    eval_dir = next((p for p in (Path(__file__).parents[2] / "shared" / "eval", Path("/work/shared/eval"))
                     if (p / "pages.jsonl").exists()), None)
    if eval_dir is None:
        pytest.skip("the shared eval pages are not beside the repository")
    pages = [json.loads(line) for line in (eval_dir / "pages.jsonl").read_text().splitlines()[:25]]
    checked = 0
    for page in pages:
        path = eval_dir / page["html_path"]
        if not path.exists():
            continue
        html, url = gzip.decompress(path.read_bytes()), page["url"]
        full = parse_page(html, url)
        targets = {link.url for link in full.links if link.url}
        target = parse_target(sorted(targets)[len(targets) // 2]) if targets else parse_target("example.com")
        partial = parse_page(html, url, classify=may_link_to([target]))
        for a, b in zip(full.links, partial.links, strict=True):
            if may_link_to([target])(a.url):
                assert (a.position, a.path, a.position_signal) == (b.position, b.path, b.position_signal)
                checked += 1
            else:
                assert (b.position, b.path, b.position_signal) == (
                    NOT_CLASSIFIED.position, NOT_CLASSIFIED.path, NOT_CLASSIFIED.signal)
            assert (a.url, a.anchor_text, a.hidden, a.context_before) == (
                b.url, b.anchor_text, b.hidden, b.context_before)
    assert checked > 0
