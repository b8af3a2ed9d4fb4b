"""`linkcrawler backlinks`: expectations and the latest result, in text, jsonl and csv; csvsafe."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest

from linkcrawler.cli import main
from linkcrawler.csvsafe import safe_cell, writer
from linkcrawler.db import Backlink, Result, Run, open_database

FIX = Path(__file__).parent / "fixtures" / "import"


def seed(db_url: str) -> dict[str, int]:
    """Import csv_ours.csv and give one backlink two results (the newest must be listed)."""
    assert main(["import", str(FIX / "csv_ours.csv"), "--db", db_url]) == 0
    db = open_database(db_url)
    with db.sessions() as s, s.begin():
        ids = {b.source_url: b.id for b in s.query(Backlink)}
        blog = ids["https://blog.gardening-tips.example/best-tools-2024"]
        old, new = Run(state="completed"), Run(state="completed")
        s.add_all([old, new])
        s.flush()
        s.add_all([
            Result(run_id=new.id, backlink_id=blog, status="lost", reason="link_removed",
                   checked_at=dt.datetime(2024, 6, 2, 3, 4, 5)),
            Result(run_id=old.id, backlink_id=blog, status="live", reason="found",
                   checked_at=dt.datetime(2024, 6, 1, 3, 4, 5)),
        ])
    db.engine.dispose()
    return ids


def test_jsonl_has_expectations_and_latest_status(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    ids = seed(db_url)
    capsys.readouterr()
    assert main(["backlinks", "--db", db_url, "--format", "jsonl"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(records) == 5
    by_source = {r["source_url"]: r for r in records}
    blog = by_source["https://blog.gardening-tips.example/best-tools-2024"]
    assert blog == {
        "backlink_id": ids["https://blog.gardening-tips.example/best-tools-2024"],
        "source_url": "https://blog.gardening-tips.example/best-tools-2024",
        "target": "https://www.acme-widgets.com/",
        "target_kind": "url",
        "expected_anchor": "Acme Widgets",
        "expected_rel": "follow",
        "expires": "2026-12-31",
        "notes": "paid placement via outreach",
        "tags": ["guest-post", "q1"],
        "sources": ["csv"],
        "status": "lost",
        "reason": "link_removed",
        "checked_at": "2024-06-02T03:04:05Z",
        "run_id": blog["run_id"],
    }
    assert blog["run_id"] is not None
    never = by_source["https://partner.example.com/links"]
    assert (never["status"], never["reason"], never["checked_at"], never["run_id"]) == (None, None, None, None)


def test_tag_filter_and_text_table(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    seed(sqlite_url)
    capsys.readouterr()
    assert main(["backlinks", "--db", sqlite_url, "--tag", "q1"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].split() == ["ID", "SOURCE", "TARGET", "ANCHOR", "REL", "EXPIRES", "TAGS", "STATUS",
                                "REASON", "CHECKED"]
    assert len(lines) == 2
    # Columns line up: every value starts where its header starts.
    assert lines[1].index("https://www.acme-widgets.com/") == lines[0].index("TARGET")
    assert lines[1].index("lost") == lines[0].index("STATUS")
    assert captured.err.strip() == "1 backlink"


def test_csv_is_formula_safe(sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "evil.csv"
    path.write_text(
        "source_url,target_url,expected_anchor,notes\n"
        'https://a.example/x,acme-widgets.com,=HYPERLINK("http://evil"),+1 call me\n'
        "https://b.example/y,acme-widgets.com,@SUM(A1),-2\n"
    )
    assert main(["import", str(path), "--db", sqlite_url]) == 0
    capsys.readouterr()
    assert main(["backlinks", "--db", sqlite_url, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["expected_anchor"], r["notes"]) for r in rows] == [
        ("'=HYPERLINK(\"http://evil\")", "'+1 call me"),
        ("'@SUM(A1)", "'-2"),
    ]
    assert rows[0]["status"] == "" and rows[0]["tags"] == ""


def test_empty_database_says_how_to_add(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backlinks", "--db", sqlite_url]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "linkcrawler import FILE" in captured.err


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("\tx", "'\tx"), ("\rx", "'\rx"),
        ("plain", "plain"), ("a=b", "a=b"), ("", ""), (None, ""), (-3, "-3"), (2.5, "2.5"),
        (True, "true"), (dt.date(2024, 1, 2), "2024-01-02"),
    ],
)
def test_safe_cell(value: object, cell: str) -> None:
    assert safe_cell(value) == cell


def test_writer_applies_safe_cell() -> None:
    out = io.StringIO()
    w = writer(out)
    w.writerow(["=cmd", 1, None])
    w.writerows([["ok", "-x", "a,b"]])
    assert out.getvalue() == "'=cmd,1,\nok,'-x,\"a,b\"\n"
