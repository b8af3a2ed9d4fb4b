"""Extraction on small fixtures (RELIABILITY INP-2) and its helpers, field by field.

Each tests/fixtures/extraction/<case>.html has <case>.json next to it: the inputs (url,
content_type, x_robots_tag) and the expected output, every Link field of every link and every
PageInfo field. The whole result must be equal. One exception: `position_signal` is the
position classifier's free-text explanation (linkcrawler.position, another owner, worded by
its model); it is only required to be non-empty. `position` and `path` are compared exactly:
the fixtures use clear landmarks, ARIA roles and class names only.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from linkcrawler import extract_links, extraction
from linkcrawler.charset import CharsetSource, choose_charset, codec_for_label
from linkcrawler.enums import Position
from linkcrawler.extraction import (
    Link,
    PageInfo,
    meta_robots_directives,
    parse_meta_refresh,
    parse_page,
    resolve_href,
    x_robots_directives,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "extraction"
CASES = sorted(p.stem for p in FIXTURES.glob("*.json"))


def _jsonable(value: object) -> object:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Position):
        return value.value
    return value


def _link_row(link: Link) -> dict:
    row = {f.name: _jsonable(getattr(link, f.name)) for f in dataclasses.fields(Link)}
    del row["position_signal"]
    return row


def _page_row(info: PageInfo) -> dict:
    return {f.name: _jsonable(getattr(info, f.name)) for f in dataclasses.fields(PageInfo)}


def test_there_is_a_fixture_per_case() -> None:
    assert len(CASES) >= 40
    assert {p.stem for p in FIXTURES.glob("*.html")} == set(CASES)


@pytest.mark.parametrize("case", CASES)
def test_fixture_whole_result(case: str) -> None:
    expected = json.loads((FIXTURES / f"{case}.json").read_text(encoding="utf-8"))
    parsed = parse_page(
        (FIXTURES / f"{case}.html").read_bytes(),
        expected["url"],
        content_type=expected["content_type"],
        x_robots_tag=expected["x_robots_tag"],
    )
    assert [_link_row(link) for link in parsed.links] == expected["links"]
    assert _page_row(parsed.info) == expected["page"]
    for link in parsed.links:
        assert isinstance(link.position_signal, str) and link.position_signal


def test_expected_files_list_every_field() -> None:
    link_fields = {f.name for f in dataclasses.fields(Link)} - {"position_signal"}
    page_fields = {f.name for f in dataclasses.fields(PageInfo)}
    for case in CASES:
        expected = json.loads((FIXTURES / f"{case}.json").read_text(encoding="utf-8"))
        assert set(expected["page"]) == page_fields, case
        for row in expected["links"]:
            assert set(row) == link_fields, case


# --- the public API ------------------------------------------------------------------------------


def test_extract_links_is_parse_page_links_for_str_and_bytes() -> None:
    html = (FIXTURES / "rel_tokens.html").read_text(encoding="utf-8")
    url = "https://www.example.com/articles/page.html"
    from_str = extract_links(html, url)
    from_bytes = extract_links(html.encode("utf-8"), url)
    assert from_str == from_bytes == list(parse_page(html, url).links)
    assert all(isinstance(link, Link) for link in from_str)


def test_str_input_reports_no_charset_and_utf8_size() -> None:
    info = parse_page("<title>é</title>", "http://h/").info
    assert info.charset == ""
    assert info.bytes == len("<title>é</title>".encode())
    assert info.title == "é"


@pytest.mark.parametrize("html", [b"", "", b"   \n", b"\x00", b"\xff\xfe", b"<!-- only -->", b"<!doctype html>"])
def test_empty_documents(html: str | bytes) -> None:
    parsed = parse_page(html, "http://h/p", x_robots_tag=["noindex"])
    assert parsed.links == ()
    assert parsed.info.noindex is True  # headers count even without a body
    assert parsed.info.base_url == "http://h/p"


def test_a_failing_position_classifier_does_not_lose_links(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(root, anchors, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        raise RuntimeError("boom")

    monkeypatch.setattr(extraction._position, "classify_positions", broken)
    links = extract_links('<p><a href="/x">x</a></p>', "http://h/")
    assert [(link.url, link.position) for link in links] == [("http://h/x", Position.BODY)]
    assert links[0].position_signal.startswith("position classifier failed: RuntimeError")
    assert links[0].path == "html/body/p/a"


def test_deep_nesting_keeps_links_after_the_deep_part() -> None:
    html = b"<p><a href=/pre>pre</a></p>" + b"<div>" * 10_000 + b"<a href=/deep>d</a>" + b"</div>" * 10_000
    html += b"<p><a href=/after>after</a></p>"
    urls = [link.url for link in extract_links(html, "http://h/")]
    assert urls == ["http://h/pre", "http://h/deep", "http://h/after"]


def test_nested_links_and_img_alt_go_to_the_innermost_open_links() -> None:
    html = '<svg><a href="/outer"><foreignObject><a href="/inner"><img alt="pic"></a></foreignObject></a></svg>'
    links = extract_links(html, "http://h/")
    assert [(link.element, link.url, link.img_alt) for link in links] == [
        ("svg:a", "http://h/outer", "pic"),
        ("a", "http://h/inner", "pic"),
    ]


# --- URL resolution --------------------------------------------------------------------------------

BASE = "http://Ex.com/a/b/c?q=1#f"


@pytest.mark.parametrize(
    ("href", "url"),
    [
        ("", "http://ex.com/a/b/c?q=1"),
        ("#x", "http://ex.com/a/b/c?q=1#x"),
        ("?y", "http://ex.com/a/b/c?y"),
        ("d", "http://ex.com/a/b/d"),
        ("../d", "http://ex.com/a/d"),
        ("../../../../d", "http://ex.com/d"),
        ("/d/./e/../f", "http://ex.com/d/f"),
        ("/%2e%2E/x", "http://ex.com/x"),
        ("./", "http://ex.com/a/b/"),
        ("..", "http://ex.com/a/"),
        ("//other.org", "http://other.org/"),
        ("http:foo", "http://ex.com/a/b/foo"),
        ("https:foo", "https://foo/"),
        ("http:////h.com/p", "http://h.com/p"),
        ("\\\\evil.com\\x?a\\b", "http://evil.com/x?a\\b"),
        (" \t\n https://h/ok \x01", "https://h/ok"),
        ("ht\ttp://h/p\na\rth", "http://h/path"),
        ("HTTP://EXÄMPLE.de:80/ä ö?q=ü v#frä g",
         "http://xn--exmple-cua.de/%C3%A4%20%C3%B6?q=%C3%BC%20v#fr%C3%A4%20g"),
        ("https://i❤.ws/", "https://xn--i-7iq.ws/"),
        ("http://faß.de/", "http://xn--fa-hia.de/"),
        ("http://ex%41mple.com/", "http://example.com/"),
        ("https://h:443/", "https://h/"),
        ("http://h:8080", "http://h:8080/"),
        ("http://u:p@H.com/", "http://u:p@h.com/"),
        ("http://[::1]:8080/", "http://[::1]:8080/"),
        ("http:///x", "http://x/"),
    ],
)
def test_resolve_href(href: str, url: str) -> None:
    assert resolve_href(BASE, href) == url


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)", " JaVa\tScRiPt:x", "mailto:a@b", "tel:1", "data:text/html,x",
        "ftp://h/", "file:///etc/passwd", "vbscript:x", "about:blank", "http://", "http://[zz]/",
        "http://[::1", "http://h:99999/", "http://h:8o/", "http://a b/", "http://a<b/",
    ],
)
def test_resolve_href_not_web(href: str) -> None:
    assert resolve_href(BASE, href) is None


def test_resolve_href_with_unusable_base() -> None:
    assert resolve_href("file:///x", "y") is None
    assert resolve_href("garbage", "/x") is None
    assert resolve_href("garbage", "https://h/x") == "https://h/x"


# --- robots and refresh ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("contents", "directives"),
    [
        (["none"], ("none",)),
        ([" NoIndex ,NOFOLLOW "], ("noindex", "nofollow")),
        (["noindex nofollow"], ("noindex", "nofollow")),
        (["index, follow", "noindex"], ("index", "follow", "noindex")),
        (["max-snippet : -1, max-image-preview:large"], ("max-snippet:-1", "max-image-preview:large")),
        (["unavailable_after: Saturday, 01-Jul-23 12:00:00 GMT"],
         ("unavailable_after: saturday, 01-jul-23 12:00:00 gmt",)),
        (["", " , ,"], ()),
    ],
)
def test_meta_robots_directives(contents: list[str], directives: tuple[str, ...]) -> None:
    assert meta_robots_directives(contents) == directives


@pytest.mark.parametrize(
    ("values", "directives"),
    [
        (["noindex"], ("noindex",)),
        (["googlebot: noindex"], ("noindex",)),
        (["GoogleBot: NoFollow"], ("nofollow",)),
        (["otherbot: noindex, nofollow"], ()),
        (["googlebot-news: noindex"], ()),
        (["googlebot: nofollow, otherbot: noindex, nosnippet"], ("nofollow",)),
        (["otherbot: noindex", "nofollow"], ("nofollow",)),
        (["unavailable_after: 25 Jun 2010 15:00:00 PST"], ("unavailable_after: 25 jun 2010 15:00:00 pst",)),
        (["googlebot: unavailable_after: 2030-01-01"], ("unavailable_after: 2030-01-01",)),
        (["max-snippet:20, noarchive"], ("max-snippet:20", "noarchive")),
    ],
)
def test_x_robots_directives(values: list[str], directives: tuple[str, ...]) -> None:
    assert x_robots_directives(values) == directives


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("5; url=/next", (5.0, "/next")),
        ("0;URL='https://h/x y'", (0.0, "https://h/x y")),
        ('3, url="/q"', (3.0, "/q")),
        ("  10  ;  URL  =  /spaces  ", (10.0, "/spaces")),
        ("2.5; url=/f", (2.0, "/f")),
        ("7 /bare", (7.0, "/bare")),
        ("30", (30.0, None)),
        ("url=/no-delay", (0.0, "/no-delay")),
        ("-1; url=/neg", (None, None)),
        ("", (None, None)),
        ("garbage", (None, None)),
        ("0; url='unterminated", (0.0, "unterminated")),
    ],
)
def test_parse_meta_refresh(content: str, expected: tuple) -> None:
    assert parse_meta_refresh(content) == expected


# --- charsets ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "content_type", "name", "source"),
    [
        (b"\xef\xbb\xbf<p>x", "text/html; charset=iso-8859-1", "utf-8", CharsetSource.BOM),
        ("<p>é</p><p>ü</p>".encode("utf-16-le"), "text/html; charset=utf-8", "utf-16le",
         CharsetSource.UTF16_PATTERN),
        ("<p>é</p><p>ü</p>".encode("utf-16-be"), "", "utf-16be", CharsetSource.UTF16_PATTERN),
        ("<p>é".encode("cp1252"), "text/html; charset=ISO-8859-1", "windows-1252", CharsetSource.HEADER),
        ("<p>é".encode(), "text/html; charset=ISO-8859-1", "utf-8", CharsetSource.DETECTED),
        ('<meta charset="shift_jis"><p>日本語'.encode("cp932"), "", "shift_jis", CharsetSource.META),
        ('<meta http-equiv="Content-Type" content="text/html; charset=koi8-r"><p>привет'.encode("koi8-r"),
         "text/html", "koi8-r", CharsetSource.META),
        ('<!-- <meta charset="koi8-r"> --><p>é'.encode(), "", "utf-8", CharsetSource.DETECTED),
        ('<meta charset="utf-7"><p>x'.encode(), "", "utf-8", CharsetSource.DETECTED),
        ('<meta charset="rot13"><p>x'.encode(), "text/html; charset=base64", "utf-8", CharsetSource.DETECTED),
        ('<meta charset="utf-16"><p>é'.encode(), "", "utf-8", CharsetSource.META),
        ("<p>plain ascii".encode(), "", "utf-8", CharsetSource.DETECTED),
        ("<p>caf\xe9 cr\xe8me".encode("utf-8")[:-1], "text/html; charset=utf-8", "utf-8", CharsetSource.HEADER),
    ],
)
def test_choose_charset(data: bytes, content_type: str, name: str, source: CharsetSource) -> None:
    choice = choose_charset(data, content_type)
    assert (choice.name, choice.source) == (name, source)


def test_mislabelled_utf8_page_that_is_windows_1252_is_detected() -> None:
    text = "<p>" + "Größere Straßenbahn für Überlandfahrten, naïve café. " * 20
    choice = choose_charset(text.encode("cp1252"), "text/html; charset=utf-8")
    assert choice.source is CharsetSource.DETECTED
    assert "Größere" in text.encode("cp1252").decode(choice.codec)


def test_stray_byte_in_a_utf8_page_keeps_utf8() -> None:
    data = ("<p>" + "Grüße aus Zürich. " * 50).encode() + b"\xa9 2020"
    assert choose_charset(data, "text/html; charset=utf-8").name == "utf-8"


@pytest.mark.parametrize(
    ("label", "codec"),
    [("ISO-8859-1", "cp1252"), ("latin1", "cp1252"), ("us-ascii", "cp1252"), ("GB2312", "gb18030"),
     ("Shift_JIS", "cp932"), ("utf8", "utf-8"), ("  'UTF-8' ", "utf-8"), ("utf-7", None),
     ("utf-32", None), ("rot13", None), ("base64", None), ("", None), ("nonsense", None)],
)
def test_codec_for_label(label: str, codec: str | None) -> None:
    assert codec_for_label(label) == codec


def test_the_position_classifier_is_given_the_page_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """The classifier learns the page's site from the URL when the page names none in <head>;
    with `classify` (the verifier's few links) as without."""
    real = extraction._position.classify_positions
    seen: list = []

    def recording(root, anchors, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        seen.append(kwargs.get("page_url"))
        return real(root, anchors, *args, **kwargs)

    monkeypatch.setattr(extraction._position, "classify_positions", recording)
    html = '<p>Read <a href="https://example.org/x">this</a> and <a href="/y">that</a>.</p>'
    extract_links(html, "https://blog.example.co.uk/post")
    parse_page(html, "https://blog.example.co.uk/post", classify=lambda u: "example.org" in u)
    assert seen == ["https://blog.example.co.uk/post"] * 2
