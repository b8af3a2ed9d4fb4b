"""Detection of encoding, delimiter, line endings and format, and row checking (no database)."""

from __future__ import annotations

import codecs
import datetime as dt
from pathlib import Path

import pytest

from linkcrawler.enums import ExpectedRel, TargetKind
from linkcrawler.importers import BadRow, IgnoredRow, ImportRow, RefusedFile, open_import
from linkcrawler.importers.detect import sniff_encoding
from linkcrawler.importers.formats import FORMATS, GSC, Kind, detect, header_key, help_text
from linkcrawler.importers.rows import reported_value

FIX = Path(__file__).parent / "fixtures" / "import"
TARGET = "acme-widgets.com"


def make_xlsx_fixtures(directory: Path) -> dict[str, Path]:
    # "import" is a keyword, so the fixture script is loaded by path rather than imported.
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_xlsx", FIX / "make_xlsx.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_all(directory)


def read(name: str | Path, **kw: object) -> tuple[str, str, list[ImportRow | BadRow | IgnoredRow]]:
    f = open_import(FIX / name if isinstance(name, str) else name, **kw)  # type: ignore[arg-type]
    return f.format.name, f.layout, list(f.items())


def good(items: list) -> list[ImportRow]:
    return [i for i in items if isinstance(i, ImportRow)]


def bad(items: list) -> list[tuple[int, str]]:
    return [(i.line, i.reason) for i in items if isinstance(i, BadRow)]


@pytest.mark.parametrize(
    ("name", "fmt", "layout", "rows"),
    [
        ("csv_ours.csv", "csv", "UTF-8, comma-separated, LF line endings", 5),
        ("csv_minimal.csv", "csv", "UTF-8, comma-separated, LF line endings", 2),
        ("csv_semicolon_bom_crlf.csv", "csv", "UTF-8 with BOM, semicolon-separated, CRLF line endings", 3),
        ("csv_semicolon_sep_hint.csv", "csv", "UTF-8, semicolon-separated, CRLF line endings", 2),
        ("csv_utf16be_tab.tsv", "csv", "UTF-16 BE with BOM, tab-separated, LF line endings", 2),
        ("ahrefs_utf16le_tab.csv", "ahrefs", "UTF-16 LE with BOM, tab-separated, CRLF line endings", 4),
        ("ahrefs_legacy.csv", "ahrefs", "UTF-8, comma-separated, LF line endings", 2),
        ("semrush_backlinks.csv", "semrush", "UTF-8, comma-separated, LF line endings", 3),
        ("majestic_api.csv", "majestic", "UTF-8, comma-separated, LF line endings", 3),
        ("majestic_site_explorer.csv", "majestic", "UTF-8, comma-separated, LF line endings", 2),
        ("moz_inbound_links.csv", "moz", "UTF-8, comma-separated, LF line endings", 3),
        ("screamingfrog_inlinks.csv", "screamingfrog", "UTF-8, comma-separated, LF line endings", 3),
        ("gsc_latest_links_en.csv", "gsc", "UTF-8, comma-separated, LF line endings", 2),
        ("gsc_latest_links_cr.csv", "gsc", "UTF-8, comma-separated, CR line endings", 3),
        ("urls.txt", "urls", "UTF-8, LF line endings", 3),
        ("urls_with_header.csv", "urls", "UTF-8, LF line endings", 2),
    ],
)
def test_every_fixture_is_detected(name: str, fmt: str, layout: str, rows: int) -> None:
    got_fmt, got_layout, items = read(name, target=TARGET)
    assert (got_fmt, got_layout) == (fmt, layout)
    assert len(good(items)) == rows
    assert bad(items) == []


@pytest.mark.parametrize("lang", ["de", "fr", "es", "pt", "it", "nl", "pl", "tr", "ja"])
def test_search_console_translated_headers(lang: str) -> None:
    fmt, layout, items = read(f"gsc_latest_links_{lang}.csv", target=TARGET)
    assert fmt == "gsc"
    assert layout == "UTF-8 with BOM, comma-separated, CRLF line endings"
    rows = good(items)
    assert [(r.line, r.page_url) for r in rows] == [
        (2, f"https://blog.{lang}.example/artikel-1"),
        (3, f"https://news.{lang}.example/p?id=7"),
    ]
    assert all(r.target.kind is TargetKind.DOMAIN and r.target.norm == TARGET for r in rows)
    assert rows[0].reported == {"last_crawled": "2024-06-01"}


def test_every_gsc_language_alias_is_detected() -> None:
    for alias in GSC.columns["source"]:
        assert detect([alias]).format is GSC, alias
        assert detect([alias.upper(), "x"]).format is GSC, alias


def test_header_matching_ignores_case_spaces_and_underscores() -> None:
    assert header_key(" Referring  Page_URL ") == header_key("referringpageurl")
    assert header_key("ＵＲＬ") == "url"  # full-width, as typed with a Japanese IME
    assert detect(["SOURCE_URL", "Target URL"]).format.name == "csv"
    assert detect(["referring page url", "TARGET_URL"]).format.name == "ahrefs"


def test_semrush_majestic_moz_are_told_apart_from_our_csv() -> None:
    assert detect(["Source url", "Target url"]).format.name == "csv"  # ties go to ours
    assert detect(["Source url", "Target url", "Anchor", "Nofollow"]).format.name == "semrush"
    assert detect(["Source URL", "Target URL", "Anchor Text", "Flag No Follow"]).format.name == "majestic"
    assert detect(["URL", "Target URL", "Anchor Text", "Domain Authority"]).format.name == "moz"


def test_ahrefs_utf16_values_and_reported() -> None:
    _, _, items = read("ahrefs_utf16le_tab.csv")
    rows = good(items)
    first = rows[0]
    assert first.line == 2
    assert first.source_url == "https://blog.gardening-tips.example/best-tools-2024"
    assert first.target.norm == "https://www.acme-widgets.com/"
    assert dict(first.reported) == {
        "title": "The 10 best widgets of 2024",
        "http_status": 200,
        "domain_rating": 54,
        "url_rating": 23,
        "context_before": "We tried many and",
        "anchor": "Acme Widgets",
        "context_after": "came out on top",
        "link_type": "text",
        "nofollow": False,
        "ugc": False,
        "sponsored": False,
        "first_seen": "2023-11-02",
        "last_seen": "2024-05-30",
    }
    assert rows[2].reported["lost"] == "2024-02-03"
    assert rows[2].reported["lost_reason"] == "lost"
    assert rows[3].reported["title"] == "Über Widgets"


def test_screaming_frog_keeps_only_hyperlinks() -> None:
    _, _, items = read("screamingfrog_inlinks.csv")
    assert [(i.line, i.reason) for i in items if isinstance(i, IgnoredRow)] == [
        (4, "Image link, not a hyperlink"),
        (6, "Canonical link, not a hyperlink"),
    ]
    forum = good(items)[1]
    assert dict(forum.reported) == {
        "anchor": "widget guide",
        "target_status": 200,
        "follow": False,
        "rel": "nofollow ugc",
        "position": "Aside",
        "link_path": "/html/body/div[2]/aside/a",
        "link_origin": "HTML",
    }


def test_majestic_flags_and_dates_in_both_exports() -> None:
    _, _, items = read("majestic_api.csv")
    news = good(items)[1]
    assert news.reported["nofollow"] is True and news.reported["image"] is True
    assert news.reported["first_seen"] == "2024-02-11"
    assert "anchor" not in news.reported  # empty cells are not reported
    _, _, items = read("majestic_site_explorer.csv")
    blog, forum = good(items)
    assert blog.reported["nofollow"] is False and forum.reported["nofollow"] is True
    assert blog.reported["first_seen"] == "2023-11-03"  # "03 Nov 2023"
    assert blog.reported["last_seen"] == "2024-05-30"


def test_our_csv_expectations() -> None:
    _, _, items = read("csv_ours.csv")
    rows = good(items)
    assert rows[0].expected_anchor == "Acme Widgets"
    assert rows[0].expected_rel is ExpectedRel.FOLLOW
    assert rows[0].tags == ("guest-post", "q1")
    assert rows[0].expires == dt.date(2026, 12, 31)
    assert rows[0].notes == "paid placement via outreach"
    assert rows[2].target.kind is TargetKind.PREFIX
    assert rows[2].notes == "note with, a comma"
    assert rows[3].expected_anchor == "Pricing, plans"
    assert rows[4].page_url == "https://ugc.example.com/comments"
    assert rows[4].page_host == "ugc.example.com"
    assert rows[4].source_url == "https://UGC.Example.com:443/a/../comments#c12"


def test_semicolon_file_keeps_quoted_semicolons() -> None:
    _, _, items = read("csv_semicolon_bom_crlf.csv")
    first = good(items)[0]
    assert first.expected_anchor == "Acme; die Widgets"
    assert first.notes == "Größe egal"
    _, _, items = read("csv_semicolon_sep_hint.csv")
    first = good(items)[0]
    assert first.line == 3  # the "sep=;" line is line 1
    assert first.tags == ("de", "presse")
    assert first.expected_anchor == "Acme Widgets, günstig"


def test_url_list_lines_comments_and_target() -> None:
    _, _, items = read("urls.txt", target="https://www.acme-widgets.com/*", tags=("hand",))
    rows = good(items)
    assert [(r.line, r.source_url) for r in rows] == [
        (2, "https://blog.gardening-tips.example/best-tools-2024"),
        (4, "https://news.example.org/reviews/widgets?page=2"),
        (5, "https://forum.example.net/t/which-widget/812"),
    ]
    assert {r.target.kind for r in rows} == {TargetKind.PREFIX}
    assert {r.tags for r in rows} == {("hand",)}


def test_target_option_fills_empty_target_cells_only() -> None:
    _, _, items = read("bad_target.csv", target="https://www.acme-widgets.com/fallback")
    assert [r.target.raw for r in good(items)] == ["acme-widgets.com", "https://www.acme-widgets.com/fallback"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("bad_columns.csv", [(3, "wrong number of columns: 2, the header has 3"),
                             (4, "wrong number of columns: 4, the header has 3")]),
        ("bad_no_source.csv", [(3, "no source URL"), (4, "no source URL")]),
        ("bad_source_scheme.csv", [
            (2, "source 'ftp://files.example/list.txt' is not an http(s) URL"),
            (4, "source 'mailto:someone@example.com' is not an http(s) URL"),
            (5, "source 'javascript:alert(1)' is not an http(s) URL"),
            (6, "source 'blog.example/no-scheme' is not an http(s) URL"),
        ]),
        ("bad_target.csv", [
            (3, "invalid target: target 'ftp://acme-widgets.com/' is not a valid http(s) URL"),
            (4, "invalid target: target 'https://acme-*.com/' is not a valid http(s) URL"),
            (5, "no target (the target column is empty and no --target was given)"),
        ]),
        ("bad_date.csv", [(3, "expires '31/01/2026' is not a date (YYYY-MM-DD)"),
                          (4, "expires '2026-02-30' is not a date (YYYY-MM-DD)")]),
        ("bad_rel.csv", [(3, "expected_rel 'dofollow' is not one of follow, nofollow, sponsored, ugc, any")]),
        ("bad_undecodable.csv", [(3, "undecodable bytes (the file was read as UTF-8)"),
                                 (5, "undecodable bytes (the file was read as UTF-8)")]),
        ("bad_mixed.csv", [
            (3, "expected_rel 'sometimes' is not one of follow, nofollow, sponsored, ugc, any"),
            (4, "no source URL"),
            (8, "expires 'never' is not a date (YYYY-MM-DD)"),  # after a cell spanning lines 6-7
            (9, "wrong number of columns: 2, the header has 4"),
        ]),
    ],
)
def test_bad_rows_are_named_by_physical_line(name: str, expected: list[tuple[int, str]]) -> None:
    _, _, items = read(name)
    assert bad(items) == expected


def test_all_problems_of_one_row_are_named(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text("source_url,target_url,expected_rel,expires\nftp://x,https://a.example/*x*,often,soon\n")
    _, _, items = read(p)
    assert bad(items) == [(2, "source 'ftp://x' is not an http(s) URL; invalid target: target "
                              "'https://a.example/*x*': '*' is only allowed once, at the end of a URL "
                              "prefix; expected_rel 'often' is not one of follow, nofollow, sponsored, "
                              "ugc, any; expires 'soon' is not a date (YYYY-MM-DD)")]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("gsc_top_linking_sites.csv", 'Search Console "Top linking sites": this export lists linking sites'),
        ("gsc_top_linked_pages.csv", 'Search Console "Top linked pages": this export lists your own pages'),
        ("unknown_format.csv", "unknown format: the header row has 'Domain', 'Backlinks', 'Trust'. Known formats"),
    ],
)
def test_refused_exports(name: str, message: str) -> None:
    with pytest.raises(RefusedFile) as exc:
        open_import(FIX / name, target=TARGET)
    assert message in str(exc.value)
    if name == "gsc_top_linking_sites.csv":
        assert '"Latest links"' in str(exc.value)
    if name == "unknown_format.csv":
        for fmt in FORMATS:
            assert f"{fmt.name} (" in str(exc.value)


def test_search_console_and_url_lists_need_a_target() -> None:
    with pytest.raises(RefusedFile, match="pass --target"):
        open_import(FIX / "gsc_latest_links_en.csv")
    with pytest.raises(RefusedFile, match="pass --target"):
        open_import(FIX / "urls.txt")
    with pytest.raises(RefusedFile, match="--target: target 'ftp://x'"):
        open_import(FIX / "urls.txt", target="ftp://x")


def test_forced_format_needs_its_columns() -> None:
    with pytest.raises(RefusedFile, match="no semrush source column"):
        open_import(FIX / "moz_inbound_links.csv", format="semrush")
    # Forcing "urls" on a one-column file with a header works like detection.
    f = open_import(FIX / "urls_with_header.csv", format="urls", target=TARGET)
    assert f.format.name == "urls"


def test_encodings_are_sniffed_from_bom_and_nul_pattern() -> None:
    assert sniff_encoding(codecs.BOM_UTF8 + b"a,b") == ("utf-8-sig", "UTF-8 with BOM")
    assert sniff_encoding(codecs.BOM_UTF16_LE + "a,b".encode("utf-16-le"))[1] == "UTF-16 LE with BOM"
    assert sniff_encoding(codecs.BOM_UTF16_BE + "a,b".encode("utf-16-be"))[1] == "UTF-16 BE with BOM"
    assert sniff_encoding("source_url,x\n".encode("utf-16-le")) == ("utf-16-le", "UTF-16 LE without BOM")
    assert sniff_encoding("source_url,x\n".encode("utf-16-be")) == ("utf-16-be", "UTF-16 BE without BOM")
    assert sniff_encoding("é,ü".encode()) == ("utf-8", "UTF-8")


def test_nul_characters_make_a_bad_row(tmp_path: Path) -> None:
    p = tmp_path / "nul.csv"
    p.write_bytes(b"source_url,target_url,notes\nhttps://a.example/x,acme.com,a\x00b\nhttps://b.example/y,acme.com,ok\n")
    _, _, items = read(p)
    assert bad(items) == [(2, "a NUL character (is this a binary file?)")]
    assert len(good(items)) == 1


def test_legacy_xls_and_empty_files_are_refused(tmp_path: Path) -> None:
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(RefusedFile, match="legacy Excel .xls"):
        open_import(xls)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"\n\n")
    with pytest.raises(RefusedFile, match="empty"):
        open_import(empty)


def test_xlsx_workbooks(tmp_path: Path) -> None:
    made = make_xlsx_fixtures(tmp_path)
    fmt, layout, items = read(made["ahrefs"])
    assert (fmt, layout) == ("ahrefs", "XLSX workbook")
    forum = good(items)[1]
    assert forum.line == 3
    assert dict(forum.reported) == {
        "title": "Widget forum", "domain_rating": 61.5, "anchor": "widget guide", "nofollow": True,
        "ugc": True, "sponsored": False, "first_seen": "2024-01-15", "last_seen": "2024-06-01",
    }
    fmt, _, items = read(made["ours"])
    rows = good(items)
    assert fmt == "csv"
    assert [(r.line, r.expires, r.tags) for r in rows] == [
        (2, dt.date(2026, 12, 31), ("xlsx", "q2")),
        (4, None, ()),  # row 3 is blank: skipped, numbering kept
    ]
    fmt, layout, items = read(made["gsc"], target=TARGET)
    assert (fmt, layout) == ("gsc", "XLSX workbook, sheet 'Latest links'")
    assert [(r.line, r.source_url, dict(r.reported)) for r in good(items)] == [
        (2, "https://blog.gardening-tips.example/best-tools-2024", {"last_crawled": "2024-06-01"}),
        (3, "https://news.example.org/reviews/widgets?page=2", {"last_crawled": "2024-05-28"}),
    ]
    _, _, items = read(made["bad"])
    assert bad(items) == [
        (3, "source 'not a url' is not an http(s) URL"),
        (4, "expected_rel 'maybe' is not one of follow, nofollow, sponsored, ugc, any"),
    ]


def test_reported_values_are_typed_only_when_certain() -> None:
    assert reported_value(Kind.BOOL, "TRUE") is True
    assert reported_value(Kind.BOOL, "+") is True
    assert reported_value(Kind.BOOL, "perhaps") == "perhaps"
    assert reported_value(Kind.DATE, "2024-01-02T03:04:05Z") == "2024-01-02"
    assert reported_value(Kind.DATE, "15.03.2024") == "2024-03-15"
    assert reported_value(Kind.DATE, "Mar 15, 2024") == "2024-03-15"
    assert reported_value(Kind.DATE, "03/04/2024") == "03/04/2024"  # March or April: kept as text
    assert reported_value(Kind.NUMBER, "54") == 54
    assert reported_value(Kind.NUMBER, "61.5") == 61.5
    assert reported_value(Kind.NUMBER, "n/a") == "n/a"


def test_help_lists_every_format_and_alias() -> None:
    text = help_text()
    for fmt in FORMATS:
        assert f"  {fmt.name}: {fmt.title}" in text
        for aliases in fmt.columns.values():
            assert " | ".join(aliases) in text
    assert 'Search Console "Top linking sites"' in text
