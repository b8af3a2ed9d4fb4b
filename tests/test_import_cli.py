"""The real `linkcrawler import` in a subprocess: exit statuses, messages, --help."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from linkcrawler.importers.formats import FORMATS

FIX = Path(__file__).parent / "fixtures" / "import"
REPO = Path(__file__).resolve().parent.parent


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "LINKCRAWLER_DB"}
    return subprocess.run(
        [sys.executable, "-m", "linkcrawler", *args],
        capture_output=True, text=True, cwd=cwd or REPO, env=env, timeout=120,
    )


def test_import_then_reimport(sqlite_url: str) -> None:
    first = cli("import", str(FIX / "ahrefs_utf16le_tab.csv"), "--db", sqlite_url, "--tag", "ahrefs-may")
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        f"imported {FIX / 'ahrefs_utf16le_tab.csv'}",
        "  format           ahrefs: Ahrefs Site Explorer backlinks export",
        "  file             UTF-16 LE with BOM, tab-separated, CRLF line endings",
        "  rows read        4",
        "  backlinks added  4",
        "  already present  0",
        "  skipped          0",
    ]
    again = cli("import", str(FIX / "ahrefs_utf16le_tab.csv"), "--db", sqlite_url)
    assert again.returncode == 0
    assert "  backlinks added  0" in again.stdout and "  already present  4" in again.stdout
    listed = cli("backlinks", "--db", sqlite_url, "--format", "jsonl", "--tag", "ahrefs-may")
    assert listed.returncode == 0
    assert len(listed.stdout.splitlines()) == 4


@pytest.mark.parametrize(
    ("name", "lines"),
    [
        ("bad_columns.csv", [3, 4]),
        ("bad_no_source.csv", [3, 4]),
        ("bad_source_scheme.csv", [2, 4, 5, 6]),
        ("bad_target.csv", [3, 4, 5]),
        ("bad_date.csv", [3, 4]),
        ("bad_rel.csv", [3]),
        ("bad_undecodable.csv", [3, 5]),
        ("bad_mixed.csv", [3, 4, 8, 9]),
    ],
)
def test_bad_input_exits_2_naming_every_line(sqlite_url: str, name: str, lines: list[int]) -> None:
    proc = cli("import", str(FIX / name), "--db", sqlite_url)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert f"refused, nothing imported: {len(lines)} bad row" in proc.stderr
    named = [int(ln.split()[1].rstrip(":")) for ln in proc.stderr.splitlines() if ln.startswith("  line ")]
    assert named == lines
    assert "pass --skip-bad-rows" in proc.stderr
    listed = cli("backlinks", "--db", sqlite_url, "--format", "jsonl")
    assert listed.stdout == ""


def test_skip_bad_rows_lists_skipped_lines(sqlite_url: str) -> None:
    proc = cli("import", str(FIX / "bad_undecodable.csv"), "--db", sqlite_url, "--skip-bad-rows")
    assert proc.returncode == 0
    assert "  backlinks added  2" in proc.stdout and "  skipped          2" in proc.stdout
    assert proc.stderr.splitlines() == [
        "skipped 2 bad rows:",
        "  line 3: undecodable bytes (the file was read as UTF-8)",
        "  line 5: undecodable bytes (the file was read as UTF-8)",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["unknown_format.csv"], "unknown format: the header row has 'Domain', 'Backlinks', 'Trust'"),
        (["gsc_top_linking_sites.csv", "--target", "acme-widgets.com"], 'Top linking sites'),
        (["gsc_latest_links_en.csv"], "pass --target URL_OR_DOMAIN"),
        (["urls.txt"], "pass --target URL_OR_DOMAIN"),
        (["urls.txt", "--target", "mailto:x@y"], "--target: target 'mailto:x@y'"),
        (["does-not-exist.csv"], "no such file"),
    ],
)
def test_refused_files_exit_2(sqlite_url: str, args: list[str], message: str) -> None:
    proc = cli("import", str(FIX / args[0]), *args[1:], "--db", sqlite_url)
    assert proc.returncode == 2
    assert proc.stderr.startswith("linkcrawler import: error: ")
    assert message in proc.stderr


def test_unknown_format_names_known_formats(sqlite_url: str) -> None:
    proc = cli("import", str(FIX / "unknown_format.csv"), "--db", sqlite_url)
    for fmt in FORMATS:
        assert f"{fmt.name} (" in proc.stderr


def test_bad_format_option_is_usage_error(sqlite_url: str) -> None:
    proc = cli("import", str(FIX / "csv_ours.csv"), "--format", "excel", "--db", sqlite_url)
    assert proc.returncode == 2
    assert "invalid choice: 'excel'" in proc.stderr


def test_help_lists_every_format_with_headers_and_ends_with_example() -> None:
    proc = cli("import", "--help")
    assert proc.returncode == 0
    for fmt in FORMATS:
        assert f"  {fmt.name}: {fmt.title}" in proc.stdout
    assert "Referring page URL | Referring Page URL" in proc.stdout
    assert "Verweisende Seite" in proc.stdout and "リンク元ページ" in proc.stdout
    assert 'Search Console "Top linking sites"' in proc.stdout
    assert proc.stdout.rstrip().splitlines()[-1].strip().startswith("linkcrawler import ")


def test_default_database_is_created_in_working_directory(tmp_path: Path) -> None:
    proc = cli("import", str(FIX / "csv_minimal.csv"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "data" / "linkcrawler.db").exists()


def test_unreachable_database_exits_3() -> None:
    proc = cli("import", str(FIX / "csv_minimal.csv"), "--db", "postgresql+psycopg://u:secret@127.0.0.1:1/x")
    assert proc.returncode == 3
    assert "database unavailable" in proc.stderr
    assert "secret" not in proc.stderr
