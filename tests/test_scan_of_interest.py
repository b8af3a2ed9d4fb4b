"""The verifier's cheap scan (_scan_of_interest: lxml picks out the links, texts are walked only
in the blocks of links of interest) gives exactly what the whole walk gives, on every fixture
page of the repository and for every site those pages link to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from linkcrawler import extraction
from linkcrawler.parsing import parse_for_targets
from linkcrawler.urls import host_of, parse_target

FIXTURES = Path(__file__).parent / "fixtures"
PAGES = sorted(p for d in ("extraction", "parsing", "position") for p in (FIXTURES / d).glob("*.html"))
FALLBACK_URL = "https://www.example.com/page"


def _url_of(page: Path) -> str:
    """The page's URL as its own test states it (the .json expectation), else a default."""
    expected = page.with_suffix(".json")
    if expected.exists():
        data = json.loads(expected.read_text())
        if isinstance(data, dict) and isinstance(data.get("url"), str):
            return data["url"]
    return FALLBACK_URL


def _targets_for(body: bytes, url: str) -> list[str]:
    """A domain target for every site the page links to, its own site, and one it never names."""
    hosts = {host_of(link.url) for link in extraction.parse_page(body, url).links if link.url}
    return sorted(h for h in hosts if h) + [host_of(url), "nowhere.example"]


def _whole_walk(root, skip):  # noqa: ANN001, ANN202
    return extraction._walk(root, skip)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_same_result_as_the_whole_walk(page: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body, url = page.read_bytes(), _url_of(page)
    targets = _targets_for(body, url)
    cheap = [parse_for_targets(body, url, "text/html", (), (parse_target(t),)) for t in targets]
    monkeypatch.setattr(extraction, "_scan_of_interest", _whole_walk)
    whole = [parse_for_targets(body, url, "text/html", (), (parse_target(t),)) for t in targets]
    assert cheap == whole


def test_the_fixtures_cover_what_the_scan_special_cases() -> None:
    """Links in SVG, <area>, <template>, a late <base>, hidden ancestors, nested blocks."""
    text = "\n".join(p.read_text(errors="replace") for p in PAGES).lower()
    for marker in ("<svg", "<area", "<template", "<base", "display:none", "hidden", "<p"):
        assert marker in text, marker
