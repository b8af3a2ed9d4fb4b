"""The in-run re-check (DESIGN §6, LINKCRAWLER_RECHECK / --recheck), through the real CLI against
a loopback server over two nights: a link that looks lost gets a second look where a false "lost"
alarm could come from (its latest conclusive result was live), and pages already known lost or
never seen before are not fetched twice every night."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli import import_backlinks
from tests.cli import linkcrawler as cli
from tests.loopback import LoopbackServer, Replies, Reply

pytestmark = pytest.mark.slow

TARGET = "mysite.test"
LINKED = Reply(200, '<html><body><p>See <a href="http://mysite.test/">my site</a> now.</p></body></html>')
UNLINKED = Reply(200, "<html><body><p>Nothing to see here.</p></body></html>")


def script() -> dict:
    """path: (first night's reply, second night's); made anew per test (Replies keeps count)."""
    return {
        "/steady": (LINKED, LINKED),
        "/flap": (LINKED, Replies(UNLINKED, LINKED)),  # a deploy in progress on the second night
        "/removed": (LINKED, UNLINKED),
        "/gone": (LINKED, Reply(404)),
        "/lost-long-ago": (UNLINKED, UNLINKED),
        "/missing": (Reply(404), Reply(404)),
    }


PAGES = tuple(script())


def night(server: LoopbackServer, db: str, pages: dict, which: int, *extra: str) -> tuple[dict, dict]:
    """Serve that night's pages, run verify; (status/reason per path, fetches per path)."""
    for path, replies in pages.items():
        server.route("a.test", path, replies[which])
    before = {path: server.count("a.test", path) for path in PAGES}
    args = ["verify", "--db", db, "--delay", "0.02", "--timeout", "5", "--recheck-delay", "0.1",
            "--no-progress", "-s", f'LINKCRAWLER_ALLOWED_ENDPOINTS=["127.0.0.1:{server.port}"]',
            *extra]
    for entry in server.resolve_entries(["a.test", TARGET]):
        args += ["--resolve", entry]
    proc = cli(*args)
    assert proc.returncode == 0, proc.stderr
    rows = map(json.loads, cli("export", "--db", db, "--format", "jsonl").stdout.splitlines())
    got = {r["source_url"].rsplit("/", 1)[1]: (r["status"], r["reason"]) for r in rows}
    fetches = {path: server.count("a.test", path) - before[path] for path in PAGES}
    return {f"/{k}": v for k, v in got.items()}, fetches


def two_nights(tmp_path: Path, *second_night_args: str, first_night_args: tuple[str, ...] = (),
               db: str | None = None) -> list:
    db = db or f"sqlite:///{tmp_path / 'lc.db'}"
    with LoopbackServer() as server:
        server.route(TARGET, "/", Reply(200, "home"))
        import_backlinks(db, [(server.url("a.test", p), TARGET) for p in PAGES], tmp_path)
        pages = script()
        return [night(server, db, pages, 0, *first_night_args), night(server, db, pages, 1, *second_night_args)]


def test_only_links_last_seen_live_get_a_second_look(tmp_path: Path, db_url: str) -> None:
    (first, first_fetches), (second, second_fetches) = two_nights(tmp_path, db=db_url)
    assert first == {
        "/steady": ("live", "found"), "/flap": ("live", "found"), "/removed": ("live", "found"),
        "/gone": ("live", "found"), "/lost-long-ago": ("lost", "link_removed"),
        "/missing": ("lost", "page_not_found"),
    }
    assert first_fetches == dict.fromkeys(PAGES, 1)  # nothing was live before: no alarm to guard
    assert second == {
        "/steady": ("live", "found"), "/flap": ("live", "found"), "/removed": ("lost", "link_removed"),
        "/gone": ("lost", "page_not_found"), "/lost-long-ago": ("lost", "link_removed"),
        "/missing": ("lost", "page_not_found"),
    }
    assert second_fetches == {"/steady": 1, "/flap": 2, "/removed": 2, "/gone": 2, "/lost-long-ago": 1,
                              "/missing": 1}


def test_negative_control_without_the_recheck_a_flap_is_a_false_alarm(tmp_path: Path) -> None:
    (_first, _), (second, second_fetches) = two_nights(tmp_path, "--recheck", "none")
    assert second["/flap"] == ("lost", "link_removed")
    assert second_fetches == dict.fromkeys(PAGES, 1)


def test_recheck_all_looks_again_at_every_lost_looking_link(tmp_path: Path) -> None:
    (first, first_fetches), (second, second_fetches) = two_nights(
        tmp_path, "--recheck", "all", first_night_args=("--recheck", "all"))
    assert first["/lost-long-ago"] == ("lost", "link_removed")
    assert first_fetches == {"/steady": 1, "/flap": 1, "/removed": 1, "/gone": 1, "/lost-long-ago": 2,
                             "/missing": 2}
    assert second["/flap"] == ("live", "found")
    assert second_fetches == {"/steady": 1, "/flap": 2, "/removed": 2, "/gone": 2, "/lost-long-ago": 2,
                              "/missing": 2}


def test_a_bad_policy_is_a_usage_error_and_stores_nothing(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'lc.db'}"
    import_backlinks(db, [("http://a.test/page", TARGET)], tmp_path)
    proc = cli("verify", "--db", db, "-s", "LINKCRAWLER_RECHECK=sometimes")
    assert proc.returncode == 2
    assert "LINKCRAWLER_RECHECK='sometimes': expected one of live, all, none" in proc.stderr
    runs = cli("export", "--db", db, "--format", "jsonl")
    assert runs.stdout == ""
