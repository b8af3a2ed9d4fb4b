"""parse_page on hostile input (RELIABILITY INP-1, INP-4): never an exception, bounded memory.

The fixtures are raw bytes written by tests/fixtures/extraction/robustness/generate.py:
malformed markup, binary served as text/html, mislabelled and conflicting charsets, UTF-16
without BOM, deep nesting, NUL bytes, IDN and very long URLs, javascript:/mailto:/data: hrefs,
<base> late or in the body, hidden links, <area>, SVG links, odd-case rel tokens, empty documents.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkcrawler.enums import Position
from linkcrawler.extraction import ParsedPage, parse_page

ROBUSTNESS = Path(__file__).resolve().parent / "fixtures" / "extraction" / "robustness"
FIXTURES = sorted(ROBUSTNESS.glob("*.html"))
URL = "https://www.example.com/dir/page.html"
CONTENT_TYPES = (
    "text/html",
    "text/html; charset=utf-8",
    "text/html; charset=Shift_JIS",
    'text/html; charset="x-junk\x00"; charset=utf-16',
    "",
)
X_ROBOTS = ["googlebot: noindex", "otherbot:", ":", "unavailable_after:", ",,,", "GOOGLEBOT: NONE, "]


def _check(parsed: ParsedPage, size: int | None) -> None:
    for link in parsed.links:
        assert link.url is None or link.url.startswith(("http://", "https://"))
        assert isinstance(link.href, str)
        assert list(link.rel) == [t.lower() for t in dict.fromkeys(link.rel)]
        assert link.nofollow == ("nofollow" in link.rel)
        assert len(link.context_before) <= 120 and len(link.context_after) <= 120
        assert link.anchor_text == " ".join(link.anchor_text.split())
        assert isinstance(link.position, Position)
        assert link.element in ("a", "area", "svg:a")
    info = parsed.info
    if size is not None:
        assert info.bytes == size
    assert info.canonical is None or info.canonical.startswith(("http://", "https://"))
    assert info.meta_refresh_url is None or info.meta_refresh_url.startswith(("http://", "https://"))


def test_there_are_at_least_100_fixtures() -> None:
    assert len(FIXTURES) >= 100


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_no_exception_on_any_fixture(path: Path) -> None:
    data = path.read_bytes()
    for content_type in CONTENT_TYPES:
        _check(parse_page(data, URL, content_type=content_type, x_robots_tag=X_ROBOTS), len(data))
    _check(parse_page(data.decode("utf-8", "replace"), URL), None)
    _check(parse_page(data.decode("latin-1"), "not a url"), None)


@pytest.mark.parametrize(
    ("case", "urls"),
    [
        ("deep_div_10k", ["https://www.example.com/deep", "https://www.example.com/after"]),
        ("deep_unclosed_div_10k", ["http://late.example/d"]),
        ("base_late_in_body", ["http://late.example/x", "http://late.example/x"]),
        ("base_javascript", ["https://www.example.com/x"]),
        ("charset_utf16le_no_bom", ["https://www.example.com/%C3%BC", "https://www.example.com/x"]),
        ("charset_utf16be_no_bom", ["https://www.example.com/%C3%BC", "https://www.example.com/x"]),
        ("nul_in_text", ["https://www.example.com/n"]),
    ],
)
def test_links_survive_hostile_input(case: str, urls: list[str]) -> None:
    parsed = parse_page((ROBUSTNESS / f"{case}.html").read_bytes(), URL)
    assert [link.url for link in parsed.links] == urls


def test_hidden_rules_in_the_soup() -> None:
    parsed = parse_page((ROBUSTNESS / "hidden_all_rules.html").read_bytes(), URL)
    assert [(link.href, link.hidden) for link in parsed.links] == [
        ("/1", True), ("/2", True), ("/3", True), ("/4", False), ("/5", True),
    ]


_TAGS = st.sampled_from(
    ["a", "area", "base", "meta", "link", "svg", "p", "div", "li", "template", "script", "style",
     "dialog", "foreignObject", "title", "noscript", "table", "td", "br", "img", "math", "span"]
)
_ATTRS = st.sampled_from(
    ["href", "xlink:href", "rel", "style", "class", "hidden", "alt", "name", "content", "http-equiv",
     "charset", "aria-hidden", "open"]
)
_VALUES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["nofollow UGC", "display:none", "sr-only", "robots", "noindex, none", "refresh",
                     "5; url=/x", "canonical", "javascript:x", "//h", "http://[", "\\\\h", "#f"]),
)


@st.composite
def _soup(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 30))):
        kind = draw(st.integers(0, 3))
        if kind == 0:
            attrs = " ".join(f'{draw(_ATTRS)}="{draw(_VALUES)}"' for _ in range(draw(st.integers(0, 3))))
            parts.append(f"<{draw(_TAGS)} {attrs}>")
        elif kind == 1:
            parts.append(f"</{draw(_TAGS)}>")
        else:
            parts.append(draw(st.text(max_size=20)))
    return "".join(parts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(html=_soup(), as_bytes=st.booleans(), noise=st.binary(max_size=20))
def test_random_soup_never_raises(html: str, as_bytes: bool, noise: bytes) -> None:
    data: str | bytes = html.encode("utf-8", "surrogatepass") + noise if as_bytes else html
    _check(parse_page(data, URL, content_type="text/html; charset=utf-8"), None)


# --- memory on a huge page ----------------------------------------------------------------------

_MEMORY_SCRIPT = textwrap.dedent(
    """
    import resource, sys
    from linkcrawler import extraction, position
    from linkcrawler.enums import Position

    if sys.argv[1] == "stub":  # extraction's own memory, without the position classifier
        position.classify_positions = lambda root, anchors, *args, **kwargs: [
            position.PositionDecision(Position.BODY, "", "stub") for _ in anchors]
    para = "<p>" + "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 6
    parts, size, i = [], 0, 0
    while size < 50 * 2**20:  # 50 MiB: a dense page, one link in every paragraph (~114k links)
        block = f'<div class="post"><h2>Title</h2>{para}<a href="/item/{i}" rel="nofollow">item {i}</a>' \
                f" and more text here.</p></div>\\n"
        parts.append(block)
        size += len(block)
        i += 1
    data = ("<html><head><title>big</title></head><body>" + "".join(parts) + "</body></html>").encode()
    del parts
    with open(sys.argv[2], "wb") as out:
        out.write(data)
    """
)

_MEASURE_SCRIPT = textwrap.dedent(
    """
    import resource, sys
    from linkcrawler import extraction, position
    from linkcrawler.enums import Position

    if sys.argv[1] == "stub":
        position.classify_positions = lambda root, anchors, *args, **kwargs: [
            position.PositionDecision(Position.BODY, "", "stub") for _ in anchors]
    data = open(sys.argv[2], "rb").read()
    page = extraction.parse_page(data, "https://www.example.com/")
    assert len(page.links) > 100_000, len(page.links)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
    """
)


@pytest.fixture(scope="module")
def big_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "page.html"
    subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT, "stub", str(path)], check=True)
    return path


def _peak_mib(mode: str, page: Path) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE_SCRIPT, mode, str(page)],
        check=True, capture_output=True, text=True, timeout=900,
    )
    return int(done.stdout.strip())


@pytest.mark.slow
def test_50_mib_page_extraction_stays_under_512_mib(big_page: Path) -> None:
    """Extraction itself (position classifier stubbed): parse, walk, links, page facts."""
    peak = _peak_mib("stub", big_page)
    assert peak < 512, f"peak RSS {peak} MiB"


@pytest.mark.slow
def test_50_mib_page_with_positions_stays_under_512_mib(big_page: Path) -> None:
    peak = _peak_mib("full", big_page)
    assert peak < 512, f"peak RSS {peak} MiB"


@pytest.mark.parametrize(
    "html",
    [
        "<div>" + "<a href=/x></a> " * 30_000 + "</div>",  # no text at all between links
        "<div>" + "<a href=/x></a><p></p>\n" * 30_000 + "</div>",  # only empty blocks
        "<div>" + "<a href=/x>x</a>y" * 30_000 + "</div>",  # one character between links
        "<a href=/all>" + "<p>text</p>" * 30_000,  # one link holding the whole page
    ],
    ids=["empty-links", "empty-blocks", "tiny-text", "one-huge-link"],
)
def test_many_links_stay_linear(html: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Contexts are found without rescanning the page per link (it once took minutes)."""
    from linkcrawler import position

    monkeypatch.setattr(position, "classify_positions", lambda root, anchors, *args, **kwargs: [
        position.PositionDecision(Position.BODY, "", "stub") for _ in anchors])
    import time

    started = time.process_time()
    parsed = parse_page(html, URL)
    assert parsed.links
    assert time.process_time() - started < 20  # about 1 s on a laptop; quadratic was minutes


def test_attribute_memos_keep_neither_long_values_nor_too_many(monkeypatch: pytest.MonkeyPatch) -> None:
    """The class-hint and rel memos outlive pages: a hostile page must not fill them with junk."""
    from linkcrawler import extraction, memo

    monkeypatch.setattr(memo, "MEMO_ENTRIES", 10_000)  # the real bound, scaled down
    long_junk = "".join(
        f'<p class="{"x" * 400}{i}"><a rel="{"nofollow " * 50}{i}" href="/{i}">a</a></p>'
        for i in range(300)
    )
    many_short = "".join(f'<p class="c{i}"><a rel="r{i}" href="/{i}">a</a></p>' for i in range(12_000))
    for html in (long_junk, many_short):
        assert len(parse_page(html, "https://h/").links) in (300, 12_000)
    assert len(extraction._CLASS_HINTED) <= 10_000
    assert max(map(len, extraction._CLASS_HINTED)) <= memo.MEMO_KEY_CHARS
    assert extraction._short_rel_tokens.cache_info().currsize <= 1024


def test_name_memos_keep_neither_long_names_nor_too_many(monkeypatch: pytest.MonkeyPatch) -> None:
    """The position classifier's memos of tag and attribute names outlive pages too."""
    from linkcrawler import memo, position

    monkeypatch.setattr(memo, "MEMO_ENTRIES", 100)  # the real bound, scaled down
    memos = (position._LOCAL_CACHE, position._NAME_CACHE, position._CATEGORY_CACHE,
             position._TOKEN_CACHE, position._NAMES_CACHE)
    for kept in memos:
        kept.clear()
    long_junk = "".join(
        f'<div id="{"menu" * 100}{i}" class="{"x" * 400}{i}"><{"t" * 400}{i}>'
        f'<a href="/{i}">a</a></{"t" * 400}{i}></div>'
        for i in range(50)
    )
    many_short = "".join(f'<div class="box{i} nav{i}"><x{i}><a href="/{i}">a</a></x{i}></div>'
                         for i in range(300))
    for html in (long_junk, many_short):
        assert len(parse_page(html, "https://h/").links) in (50, 300)
    for kept in memos:
        assert len(kept) <= 100
        sizes = [len(k) if isinstance(k, str) else sum(len(v) for v in k if v) for k in kept]
        assert max(sizes) <= memo.MEMO_KEY_CHARS
