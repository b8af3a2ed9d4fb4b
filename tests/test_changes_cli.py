"""The real `changes` and `history` commands in a subprocess, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from tests.conftest import REPO
from tests.test_changes import History


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "linkcrawler", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def nightly(url: str) -> tuple[History, dict[str, int], list[int]]:
    """Four nights over five backlinks exercising every kind of event and the carry-over."""
    h = History(url)
    ids = {
        "steady": h.backlink("https://steady.example/links"),
        "flaky": h.backlink("https://flaky.example/"),
        "removed": h.backlink("https://removed.example/post", "mysite.test"),
        "moved": h.backlink("https://moved.example/=HYPERLINK(1)", "https://mysite.test/shoes*"),
        "late": h.backlink("https://late.example/"),
    }
    runs = [
        h.run({ids["steady"]: "found", ids["flaky"]: "found", ids["removed"]: "found",
               ids["moved"]: "found", ids["late"]: "blocked"}),
        h.run({ids["steady"]: "found", ids["flaky"]: "timeout", ids["removed"]: "link_removed",
               ids["moved"]: {"reason": "found", "position": "footer", "anchor_text": "-shoes"},
               ids["late"]: "found"}),
        h.run({ids["steady"]: "found", ids["flaky"]: "found", ids["removed"]: "link_removed",
               ids["moved"]: {"reason": "found", "position": "footer", "anchor_text": "-shoes"},
               ids["late"]: "robots_unavailable"}),
        h.run({ids["steady"]: "found", ids["flaky"]: "found", ids["removed"]: "found",
               ids["moved"]: {"reason": "found", "position": "footer", "anchor_text": "-shoes"},
               ids["late"]: "found"}),
    ]
    return h, ids, runs


def test_changes_jsonl_whole_output(db_url: str) -> None:
    h, ids, runs = nightly(db_url)
    done = cli("changes", "--db", db_url, "--from", str(runs[0]), "--to", str(runs[1]), "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    base = {"from_run": runs[0], "to_run": runs[1]}
    assert [json.loads(line) for line in done.stdout.splitlines()] == [
        {"backlink_id": ids["removed"], "source_url": "https://removed.example/post", "target": "mysite.test",
         "kind": "lost", "field": None, "before": "found", "after": "link_removed", **base},
        {"backlink_id": ids["moved"], "source_url": "https://moved.example/=HYPERLINK(1)",
         "target": "https://mysite.test/shoes*", "kind": "changed", "field": "position",
         "before": "body", "after": "footer", **base},
        {"backlink_id": ids["moved"], "source_url": "https://moved.example/=HYPERLINK(1)",
         "target": "https://mysite.test/shoes*", "kind": "changed", "field": "anchor_text",
         "before": "Example link", "after": "-shoes", **base},
        {"backlink_id": ids["late"], "source_url": "https://late.example/", "target": "https://mysite.test/",
         "kind": "new", "field": None, "before": None, "after": "found", **base},
    ]
    # keys in the contract's order
    assert list(json.loads(done.stdout.splitlines()[0])) == [
        "backlink_id", "source_url", "target", "kind", "field", "before", "after", "from_run", "to_run"]
    assert done.stderr == (f"changes from run {runs[0]} to run {runs[1]}: "
                           "1 lost, 0 recovered, 1 new, 2 changed\n")


def test_changes_default_is_the_last_two_completed_runs(db_url: str) -> None:
    h, ids, runs = nightly(db_url)
    done = cli("changes", "--db", db_url, "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    assert [(e["backlink_id"], e["kind"], e["from_run"], e["to_run"])
            for e in map(json.loads, done.stdout.splitlines())] == [
        (ids["removed"], "recovered", runs[2], runs[3])]


def test_changes_text_and_csv(sqlite_url: str) -> None:
    h, ids, runs = nightly(sqlite_url)
    done = cli("changes", "--db", sqlite_url, "--from", str(runs[0]), "--to", str(runs[1]))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"changes from run {runs[0]} (2025-01-02 02:00) to run {runs[1]} (2025-01-03 02:00)",
        f'lost      #{ids["removed"]} https://removed.example/post -> mysite.test ("found" => "link_removed")',
        f'changed   #{ids["moved"]} https://moved.example/=HYPERLINK(1) -> https://mysite.test/shoes*: '
        'position "body" => "footer"',
        f'changed   #{ids["moved"]} https://moved.example/=HYPERLINK(1) -> https://mysite.test/shoes*: '
        'anchor_text "Example link" => "-shoes"',
        f'new       #{ids["late"]} https://late.example/ -> https://mysite.test/ (null => "found")',
        "1 lost, 0 recovered, 1 new, 2 changed",
    ]
    done = cli("changes", "--db", sqlite_url, "--from", str(runs[0]), "--to", str(runs[1]), "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "backlink_id,source_url,target,kind,field,before,after,from_run,to_run",
        f"{ids['removed']},https://removed.example/post,mysite.test,lost,,found,link_removed,1,2",
        f"{ids['moved']},https://moved.example/=HYPERLINK(1),https://mysite.test/shoes*,changed,position,"
        "body,footer,1,2",
        # a cell a spreadsheet would run as a formula is neutralised (SEC-3)
        f"{ids['moved']},https://moved.example/=HYPERLINK(1),https://mysite.test/shoes*,changed,anchor_text,"
        "Example link,'-shoes,1,2",
        f"{ids['late']},https://late.example/,https://mysite.test/,new,,,found,1,2",
    ]


def test_changes_confirm_and_fail_on(sqlite_url: str) -> None:
    h = History(sqlite_url)
    b = h.backlink("https://a.example/")
    r1 = h.run({b: "found"})
    r2 = h.run({b: "page_not_found"})
    r3 = h.run({b: "page_not_found"})
    args = ["changes", "--db", sqlite_url, "--format", "jsonl"]
    first = cli(*args, "--from", str(r1), "--to", str(r2), "--confirm", "2", "--fail-on", "lost")
    assert (first.returncode, first.stdout) == (0, "")
    second = cli(*args, "--confirm", "2", "--fail-on", "lost")
    assert second.returncode == 1
    assert [json.loads(x)["kind"] for x in second.stdout.splitlines()] == ["lost"]
    assert cli(*args, "--from", str(r1), "--to", str(r2), "--fail-on", "changes").returncode == 1
    assert cli(*args, "--from", str(r2), "--to", str(r3), "--fail-on", "changes").returncode == 0


@pytest.mark.parametrize(("runs", "args", "message"), [
    (0, [], "changes needs two completed runs to compare, found 0"),
    (1, [], "changes needs two completed runs to compare, found 1"),
    (2, ["--from", "7"], "no verify run with id 7 (runs 1..2)"),
    (2, ["--to", "9"], "no verify run with id 9 (runs 1..2)"),
    (2, ["--from", "2", "--to", "1"], "--from (2) must be an earlier run than --to (1)"),
    (2, ["--from", "2"], "no completed run after run 2; give --to ID"),
])
def test_changes_usage_errors(sqlite_url: str, runs: int, args: list[str], message: str) -> None:
    h = History(sqlite_url)
    b = h.backlink("https://a.example/")
    for _ in range(runs):
        h.run({b: "found"})
    done = cli("changes", "--db", sqlite_url, *args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(f"linkcrawler changes: error: {message}")


def test_changes_argument_errors(sqlite_url: str) -> None:
    for args in (["--confirm", "0"], ["--from", "x"], ["--format", "xml"]):
        done = cli("changes", "--db", sqlite_url, *args)
        assert done.returncode == 2 and "error" in done.stderr


def test_history_jsonl_whole_output(db_url: str) -> None:
    h, ids, runs = nightly(db_url)
    done = cli("history", str(ids["removed"]), "--db", db_url, "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    for r in records:
        assert r.pop("checked_at").endswith("Z")
    event: dict[str, Any] = {"backlink_id": ids["removed"], "source_url": "https://removed.example/post",
                             "target": "mysite.test", "field": None}
    assert records == [
        {"backlink_id": ids["removed"], "run_id": runs[0], "run_state": "completed",
         "started_at": "2025-01-02T02:00:00Z", "status": "live", "reason": "found", "state": "live",
         "events": [{**event, "kind": "new", "before": None, "after": "found", "from_run": None,
                     "to_run": runs[0]}]},
        {"backlink_id": ids["removed"], "run_id": runs[1], "run_state": "completed",
         "started_at": "2025-01-03T02:00:00Z", "status": "lost", "reason": "link_removed", "state": "lost",
         "events": [{**event, "kind": "lost", "before": "found", "after": "link_removed",
                     "from_run": runs[0], "to_run": runs[1]}]},
        {"backlink_id": ids["removed"], "run_id": runs[2], "run_state": "completed",
         "started_at": "2025-01-04T02:00:00Z", "status": "lost", "reason": "link_removed", "state": "lost",
         "events": []},
        {"backlink_id": ids["removed"], "run_id": runs[3], "run_state": "completed",
         "started_at": "2025-01-05T02:00:00Z", "status": "live", "reason": "found", "state": "live",
         "events": [{**event, "kind": "recovered", "before": "link_removed", "after": "found",
                     "from_run": runs[2], "to_run": runs[3]}]},
    ]


def test_history_text(sqlite_url: str) -> None:
    h, ids, runs = nightly(sqlite_url)
    done = cli("history", str(ids["flaky"]), "--db", sqlite_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"backlink #{ids['flaky']} https://flaky.example/ -> https://mysite.test/",
        "   run  started           run state    status      reason              state",
        "     1  2025-01-02 02:00  completed    live        found               live",
        '        new: null => "found"',
        "     2  2025-01-03 02:00  completed    unverified  timeout             live",
        "     3  2025-01-04 02:00  completed    live        found               live",
        "     4  2025-01-05 02:00  completed    live        found               live",
    ]
    missing = cli("history", "999", "--db", sqlite_url)
    assert missing.returncode == 2
    assert missing.stderr == "linkcrawler history: error: no backlink with id 999\n"
