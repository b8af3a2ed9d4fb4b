"""End to end: the real CLI in a subprocess against the demo web on loopback, asserting on
the database through `export` (the contract of DESIGN §5)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from linkcrawler.demo_web import BACKLINKS, DemoWeb
from tests.cli import import_backlinks, linkcrawler

pytestmark = pytest.mark.slow

FAST = ["--allow-private", "--delay", "0.05", "--recheck-delay", "0.2", "--timeout", "10", "--no-progress"]


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = linkcrawler(*args)
    if check and proc.returncode not in (0, 1):
        raise AssertionError(f"linkcrawler {' '.join(args)} exited {proc.returncode}\n{proc.stderr}")
    return proc


def import_demo(web: DemoWeb, tmp_path: Path, db: str) -> None:
    import_backlinks(db, [(web.url(source), web.url(target)) for source, target, _s, _r in BACKLINKS], tmp_path)


def export(db: str) -> dict[str, dict]:
    out = cli("export", "--db", db, "--format", "jsonl").stdout
    return {r["source_url"]: r for r in map(json.loads, out.splitlines())}


def verify_args(web: DemoWeb, db: str) -> list[str]:
    args = ["verify", "--db", db, *FAST]
    for entry in web.resolve_entries():
        args += ["--resolve", entry]
    return args


@dataclass(frozen=True)
class DemoRun:
    results: dict[str, dict]
    port: int
    returncode: int
    stdout: str


def crawl_demo(tmp_path: Path, db: str) -> DemoRun:
    with DemoWeb() as web:
        import_demo(web, tmp_path, db)
        proc = cli(*verify_args(web, db))
        return DemoRun(export(db), web.port, proc.returncode, proc.stdout)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    tmp = tmp_path_factory.mktemp("demo")
    return crawl_demo(tmp, f"sqlite:///{tmp / 'lc.db'}")


def expected(port: int) -> dict[str, tuple[str, str]]:
    return {source.replace(":PORT", f":{port}"): (status, reason) for source, _t, status, reason in BACKLINKS}


def test_every_planted_page_gets_its_result(demo_run: DemoRun) -> None:
    assert demo_run.returncode == 0
    assert "status" in demo_run.stdout and "reason" in demo_run.stdout  # the summary table
    got = {source: (r["status"], r["reason"]) for source, r in demo_run.results.items()}
    assert got == expected(demo_run.port)


def test_every_planted_page_gets_its_result_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    run = crawl_demo(tmp_path, pg_url)
    got = {source: (r["status"], r["reason"]) for source, r in run.results.items()}
    assert got == expected(run.port)


def test_found_result_has_every_field(demo_run: DemoRun) -> None:
    results, port = demo_run.results, demo_run.port
    r = results[f"http://blog.example.test:{port}/moved-target"]
    assert set(r) == {"run_id", "backlink_id", "source_url", "target", "status", "reason", "follow",
                      "indexable", "googlebot_allowed", "http_status", "final_url", "redirects", "links",
                      "page", "unmet", "error", "attempts", "checked_at"}
    assert (r["status"], r["reason"], r["follow"], r["indexable"], r["http_status"]) == (
        "live", "found", True, True, 200)
    assert r["final_url"] == f"http://blog.example.test:{port}/moved-target" and r["redirects"] == []
    assert r["unmet"] == [] and r["error"] is None and r["attempts"] == 1
    assert r["checked_at"].endswith("Z")
    (best,) = r["links"]
    assert best == {
        "href": f"http://mysite.test:{port}/old-product",
        "url": f"http://mysite.test:{port}/old-product",
        "anchor_text": "their product page", "img_alt": "", "rel": [], "nofollow": False,
        "sponsored": False, "ugc": False, "position": "body", "hidden": False,
        "context_before": "See", "context_after": "for details.", "path": best["path"], "match": "exact",
        "target_status": 200, "target_final_url": f"http://mysite.test:{port}/product",
        "target_redirects": [{"url": f"http://mysite.test:{port}/old-product", "status": 301}],
    }
    assert best["path"].startswith("html/body/")
    assert r["page"]["title"] == "Moved" and r["page"]["noindex"] is False


def test_redirect_chain_of_the_referring_page(demo_run: DemoRun) -> None:
    results, port = demo_run.results, demo_run.port
    r = results[f"http://news.example.test:{port}/hop1"]
    assert r["redirects"] == [
        {"url": f"http://news.example.test:{port}/hop1", "status": 302},
        {"url": f"http://news.example.test:{port}/hop2", "status": 307},
    ]
    assert r["final_url"] == f"http://news.example.test:{port}/story"
    loop = results[f"http://news.example.test:{port}/loop-a"]
    assert loop["reason"] == "redirect_loop" and "loop" in loop["error"]
    forum = results[f"http://forum.example.test:{port}/thread"]
    assert (forum["follow"], forum["indexable"], forum["links"][0]["position"]) == (False, False, "comments")
    assert forum["links"][0]["rel"] == ["ugc", "nofollow"]
