"""What `linkcrawler import` stores, exactly: pages, backlinks, tags and tool reports.

Runs the command in-process (the subprocess tests are in test_import_cli.py). Tests taking
`db_url` run on SQLite and PostgreSQL; the per-format ones run on SQLite.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from linkcrawler.backlinks import add_backlinks, add_tags, all_tags, count_backlinks, iter_backlinks
from linkcrawler.cli import main
from linkcrawler.db import Backlink, BacklinkSource, BacklinkTag, Page, open_database, url_hash
from linkcrawler.importers import ImportRow, open_import

FIX = Path(__file__).parent / "fixtures" / "import"


def run_import(db_url: str, name: str | Path, *args: str) -> int:
    path = FIX / name if isinstance(name, str) else name
    return main(["import", str(path), "--db", db_url, *args])


def stored(db_url: str) -> list[dict[str, Any]]:
    """Every backlink with its page, tags and sources, ordered by source URL then target."""
    db = open_database(db_url)
    try:
        with db.sessions() as s:
            out = []
            for b, p in s.execute(select(Backlink, Page).join(Page, Page.id == Backlink.page_id)):
                out.append({
                    "source_url": b.source_url,
                    "page_url": p.url,
                    "host": p.host,
                    "target": b.target,
                    "kind": b.target_kind,
                    "norm": b.target_norm,
                    "expected_anchor": b.expected_anchor,
                    "expected_rel": b.expected_rel,
                    "expires": b.expires,
                    "notes": b.notes,
                    "tags": sorted(s.scalars(select(BacklinkTag.tag).where(BacklinkTag.backlink_id == b.id))),
                    "sources": {
                        src.tool: src.reported
                        for src in s.scalars(select(BacklinkSource).where(BacklinkSource.backlink_id == b.id))
                    },
                })
                assert p.url_key == url_hash(p.url)
                assert b.target_key == url_hash(f"{b.target_kind}:{b.target_norm}")
            return sorted(out, key=lambda r: (r["source_url"], r["target"]))
    finally:
        db.engine.dispose()


def test_our_csv_is_stored_exactly(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_import(sqlite_url, "csv_ours.csv", "--tag", "batch-1") == 0
    out = capsys.readouterr().out
    assert "format           csv: linkcrawler CSV (with expectations)" in out
    assert "backlinks added  5" in out
    rows = stored(sqlite_url)
    assert rows == [
        {
            "source_url": "https://UGC.Example.com:443/a/../comments#c12",
            "page_url": "https://ugc.example.com/comments", "host": "ugc.example.com",
            "target": "https://www.acme-widgets.com/", "kind": "url", "norm": "https://www.acme-widgets.com/",
            "expected_anchor": None, "expected_rel": "ugc", "expires": None, "notes": None,
            "tags": ["batch-1"], "sources": {"csv": {}},
        },
        {
            "source_url": "https://blog.gardening-tips.example/best-tools-2024",
            "page_url": "https://blog.gardening-tips.example/best-tools-2024",
            "host": "blog.gardening-tips.example",
            "target": "https://www.acme-widgets.com/", "kind": "url", "norm": "https://www.acme-widgets.com/",
            "expected_anchor": "Acme Widgets", "expected_rel": "follow", "expires": dt.date(2026, 12, 31),
            "notes": "paid placement via outreach", "tags": ["batch-1", "guest-post", "q1"],
            "sources": {"csv": {}},
        },
        {
            "source_url": "https://forum.example.net/t/which-widget/812",
            "page_url": "https://forum.example.net/t/which-widget/812", "host": "forum.example.net",
            "target": "https://www.acme-widgets.com/blog/*", "kind": "prefix",
            "norm": "https://www.acme-widgets.com/blog/",
            "expected_anchor": None, "expected_rel": "nofollow", "expires": None,
            "notes": "note with, a comma", "tags": ["batch-1", "forum"], "sources": {"csv": {}},
        },
        {
            "source_url": "https://news.example.org/reviews/widgets?page=2",
            "page_url": "https://news.example.org/reviews/widgets?page=2", "host": "news.example.org",
            "target": "acme-widgets.com", "kind": "domain", "norm": "acme-widgets.com",
            "expected_anchor": None, "expected_rel": "any", "expires": None, "notes": None,
            "tags": ["batch-1"], "sources": {"csv": {}},
        },
        {
            "source_url": "https://partner.example.com/links",
            "page_url": "https://partner.example.com/links", "host": "partner.example.com",
            "target": "https://www.acme-widgets.com/pricing", "kind": "url",
            "norm": "https://www.acme-widgets.com/pricing",
            "expected_anchor": "Pricing, plans", "expected_rel": "sponsored", "expires": dt.date(2025, 6, 30),
            "notes": None, "tags": ["batch-1", "paid", "partner"], "sources": {"csv": {}},
        },
    ]


def test_ahrefs_utf16_report_is_kept(sqlite_url: str) -> None:
    assert run_import(sqlite_url, "ahrefs_utf16le_tab.csv") == 0
    rows = {r["source_url"]: r for r in stored(sqlite_url)}
    assert len(rows) == 4
    forum = rows["https://forum.example.net/t/which-widget/812"]
    assert forum["target"] == "https://www.acme-widgets.com/blog/widget-guide"
    assert forum["expected_anchor"] is None and forum["expected_rel"] is None  # reports are not expectations
    assert forum["sources"] == {"ahrefs": {
        "title": "Widget forum – which one?", "http_status": 200, "domain_rating": 61, "url_rating": 18,
        "context_before": "See this guide:", "anchor": "widget guide", "context_after": "for details",
        "link_type": "text", "nofollow": True, "ugc": True, "sponsored": False,
        "first_seen": "2024-01-15", "last_seen": "2024-06-01",
    }}


@pytest.mark.parametrize(
    ("name", "tool", "count", "reported_of_first"),
    [
        ("semrush_backlinks.csv", "semrush", 3, {
            "page_ascore": 42, "title": "The 10 best widgets of 2024", "anchor": "Acme Widgets",
            "external_links": 140, "internal_links": 35, "nofollow": False, "sponsored": False,
            "ugc": False, "image": False, "sitewide": False, "first_seen": "2023-11-05",
            "last_seen": "2024-06-01", "new_link": False, "lost_link": False,
        }),
        ("majestic_api.csv", "majestic", 3, {
            "anchor": "Acme Widgets", "redirect": False, "frame": False, "nofollow": False,
            "image": False, "deleted": False, "alt_text": False, "mention": False,
            "first_seen": "2023-11-03", "last_seen": "2024-05-30", "link_type": "TextLink",
            "citation_flow": 31, "trust_flow": 22,
        }),
        ("moz_inbound_links.csv", "moz", 3, {
            "title": "The 10 best widgets of 2024", "anchor": "Acme Widgets", "spam_score": 1,
            "domain_authority": 45, "page_authority": 38, "link_type": "follow",
            "first_seen": "2023-11-10", "last_seen": "2024-05-29",
        }),
        ("screamingfrog_inlinks.csv", "screamingfrog", 3, {
            "anchor": "Acme Widgets", "target_status": 200, "follow": True, "position": "Content",
            "link_path": "/html/body/main/article/p[3]/a", "link_origin": "HTML",
        }),
    ],
)
def test_tool_exports_are_stored_with_reports(
    sqlite_url: str, name: str, tool: str, count: int, reported_of_first: dict[str, Any]
) -> None:
    assert run_import(sqlite_url, name) == 0
    rows = {r["source_url"]: r for r in stored(sqlite_url)}
    assert len(rows) == count
    blog = rows["https://blog.gardening-tips.example/best-tools-2024"]
    assert blog["target"] == "https://www.acme-widgets.com/"
    assert blog["sources"] == {tool: reported_of_first}


def test_search_console_with_target(sqlite_url: str) -> None:
    assert run_import(sqlite_url, "gsc_latest_links_cr.csv", "--target", "acme-widgets.com") == 0
    rows = stored(sqlite_url)
    assert [(r["source_url"], r["kind"], r["norm"], r["sources"]) for r in rows] == [
        ("https://blog.gardening-tips.example/best-tools-2024", "domain", "acme-widgets.com",
         {"gsc": {"last_crawled": "2024-06-01"}}),
        ("https://forum.example.net/t/which-widget/812", "domain", "acme-widgets.com",
         {"gsc": {"last_crawled": "2024-05-20"}}),
        ("https://news.example.org/reviews/widgets?page=2", "domain", "acme-widgets.com",
         {"gsc": {"last_crawled": "2024-05-28"}}),
    ]


def test_xlsx_import(sqlite_url: str, tmp_path: Path) -> None:
    from tests.test_import_detect import make_xlsx_fixtures

    made = make_xlsx_fixtures(tmp_path)
    assert run_import(sqlite_url, made["ours"]) == 0
    rows = stored(sqlite_url)
    assert [(r["source_url"], r["expires"], r["tags"], r["notes"]) for r in rows] == [
        ("https://a.example/one", dt.date(2026, 12, 31), ["q2", "xlsx"], "kept as a spreadsheet"),
        ("https://b.example/two", None, [], None),
    ]


# --- on both databases ------------------------------------------------------------------


def test_reimport_adds_nothing(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_import(db_url, "csv_ours.csv") == 0
    before = stored(db_url)
    capsys.readouterr()
    assert run_import(db_url, "csv_ours.csv") == 0
    out = capsys.readouterr().out
    assert "backlinks added  0" in out and "already present  5" in out
    assert stored(db_url) == before


def test_same_backlink_from_two_tools_is_one_backlink(db_url: str) -> None:
    assert run_import(db_url, "ahrefs_utf16le_tab.csv") == 0
    assert run_import(db_url, "semrush_backlinks.csv") == 0
    assert run_import(db_url, "moz_inbound_links.csv") == 0
    rows = {(r["source_url"], r["target"]): r for r in stored(db_url)}
    # Ahrefs has 4 rows, Semrush and Moz 3 each, all about the same 4 links.
    assert len(rows) == 4
    blog = rows[("https://blog.gardening-tips.example/best-tools-2024", "https://www.acme-widgets.com/")]
    assert set(blog["sources"]) == {"ahrefs", "semrush", "moz"}
    assert blog["sources"]["ahrefs"]["first_seen"] == "2023-11-02"
    assert blog["sources"]["semrush"]["first_seen"] == "2023-11-05"
    assert blog["sources"]["moz"]["first_seen"] == "2023-11-10"


def test_bad_file_is_refused_whole(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_import(db_url, "bad_mixed.csv") == 2
    err = capsys.readouterr().err
    assert "refused, nothing imported: 4 bad rows" in err
    for line in (3, 4, 8, 9):
        assert f"  line {line}: " in err
    assert stored(db_url) == []


def test_skip_bad_rows_imports_the_rest(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_import(db_url, "bad_mixed.csv", "--skip-bad-rows") == 0
    captured = capsys.readouterr()
    assert "skipped          4" in captured.out
    assert "skipped 4 bad rows:\n  line 3: expected_rel 'sometimes'" in captured.err
    assert [r["source_url"] for r in stored(db_url)] == [
        "https://a.example/1", "https://c.example/3", "https://d.example/4\nwith a line break",
    ]


def test_refusal_after_many_batches_leaves_nothing(db_url: str, tmp_path: Path) -> None:
    # The bad row comes after several batches were written: the one transaction undoes them.
    path = tmp_path / "big.csv"
    lines = ["source_url,target_url"] + [f"https://s{i}.example/p,acme-widgets.com" for i in range(12_000)]
    lines.append("not-a-url,acme-widgets.com")
    path.write_text("\n".join(lines) + "\n")
    assert run_import(db_url, path) == 2
    db = open_database(db_url)
    with db.sessions() as s:
        assert count_backlinks(s) == 0
        assert s.scalar(select(Page.id).limit(1)) is None
    db.engine.dispose()


def test_repository_functions(db_url: str) -> None:
    db = open_database(db_url)
    rows = [r for r in open_import(FIX / "csv_ours.csv").items() if isinstance(r, ImportRow)]
    with db.sessions() as s, s.begin():
        counts = add_backlinks(s, rows + rows[:2], tool="csv", file_name="x.csv", batch_size=2)
        assert (counts.rows, counts.added, counts.already_present, counts.sources_added) == (7, 5, 2, 5)
        assert count_backlinks(s) == 5
        assert count_backlinks(s, tag="q1") == 1
        views = list(iter_backlinks(s, chunk_size=2))
        assert [v.id for v in views] == sorted(v.id for v in views)
        assert len(views) == 5
        assert add_tags(s, [views[0].id, views[1].id], ["vip", "vip"]) == 2
        assert add_tags(s, [views[0].id], ["vip"]) == 0
        assert ("vip", 2) in all_tags(s)
        assert [v.id for v in iter_backlinks(s, tag="vip")] == [views[0].id, views[1].id]
        assert all(v.status is None and v.checked_at is None for v in views)
    db.engine.dispose()
