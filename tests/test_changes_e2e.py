"""End to end: three real `verify` runs over a loopback web that changes between nights, then
`changes` in a subprocess: every event kind, found -> blocked -> found without an event
(DAT-5), --fail-on lost and --notify to a local webhook receiver."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from tests.loopback import LoopbackServer, Reply
from tests.test_changes_cli import cli
from tests.test_notify import Receiver

pytestmark = pytest.mark.slow

FAST = ["--allow-private", "--delay", "0.05", "--recheck-delay", "0.2", "--timeout", "10", "--no-progress"]
TARGET = "http://mysite.test/"


def page(link: str = "", footer: str = "") -> Reply:
    return Reply(200, (
        "<html><head><title>A resource page</title></head><body>"
        "<header><nav><a href='/'>Home</a> <a href='/about'>About</a></nav></header>"
        "<main><article><h1>Useful resources</h1>"
        f"<p>We keep a list of tools we like for running and hiking. {link} Thanks for reading.</p>"
        "<p>Another paragraph of article text so that the main content is clearly the body.</p>"
        "</article></main>"
        f"<footer><p>Copyright 2025 Example Inc. All rights reserved. {footer}</p>"
        "<p><a href='/imprint'>Imprint</a> <a href='/privacy'>Privacy</a></p></footer>"
        "</body></html>"))


LINK = f'<a href="{TARGET}">My site</a>'
NOFOLLOW = f'<a href="{TARGET}" rel="nofollow">My site</a>'
NO_LINK = page()
BLOCKED = Reply(403, "go away")

# night -> host -> reply
NIGHTS: list[dict[str, Reply]] = [
    {"steady.test": page(LINK), "gone.test": page(LINK), "back.test": page(LINK),
     "moved.test": page(LINK), "flaky.test": page(LINK), "fresh.test": BLOCKED},
    {"steady.test": page(LINK), "gone.test": NO_LINK, "back.test": NO_LINK,
     "moved.test": page(footer=NOFOLLOW), "flaky.test": BLOCKED, "fresh.test": page(LINK)},
    {"steady.test": page(LINK), "gone.test": NO_LINK, "back.test": page(LINK),
     "moved.test": page(footer=NOFOLLOW), "flaky.test": page(LINK), "fresh.test": page(LINK)},
]


def test_three_nights(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'lc.db'}"
    receiver = Receiver()
    try:
        with LoopbackServer() as web:
            backlinks = tmp_path / "backlinks.csv"
            with backlinks.open("w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["source_url", "target_url"])
                for host in NIGHTS[0]:
                    w.writerow([web.url(host, "/p"), TARGET])
            assert cli("import", str(backlinks), "--db", db).returncode == 0
            codes, leaked = [], False
            for n, night in enumerate(NIGHTS):
                for host, reply in night.items():
                    web.route(host, "/p", reply)
                extra = ["--notify", receiver.url + "/hook/SECRET"] if n == 1 else []
                done = cli("verify", "--db", db, *FAST, *web.resolve_args(), "--fail-on", "lost", *extra)
                assert done.returncode in (0, 1), done.stderr
                leaked = leaked or "SECRET" in done.stderr + done.stdout
                codes.append(done.returncode)
            port = web.port
    finally:
        receiver.close()
    assert codes == [0, 1, 1]  # gone.test is lost from night 2 on

    def events(*args: str) -> list[tuple[Any, ...]]:
        done = cli("changes", "--db", db, "--format", "jsonl", *args)
        assert done.returncode == 0, done.stderr
        out = []
        for e in map(json.loads, done.stdout.splitlines()):
            host = e["source_url"].split("//")[1].split(":")[0]
            assert e["source_url"] == f"http://{host}:{port}/p" and e["target"] == TARGET
            out.append((host, e["kind"], e["field"], e["before"], e["after"], e["from_run"], e["to_run"]))
        # Events come in backlink id order; ids follow the import's key order, not the file's.
        return sorted(out, key=repr)

    assert events("--from", "1", "--to", "2") == sorted([
        ("gone.test", "lost", None, "found", "link_removed", 1, 2),
        ("back.test", "lost", None, "found", "link_removed", 1, 2),
        ("moved.test", "changed", "follow", True, False, 1, 2),
        ("moved.test", "changed", "rel", "", "nofollow", 1, 2),
        ("moved.test", "changed", "position", "body", "footer", 1, 2),
        ("fresh.test", "new", None, None, "found", 1, 2),
    ], key=repr)
    # default: the last two runs; flaky.test went found -> blocked -> found: no event
    assert events() == [("back.test", "recovered", None, "link_removed", "found", 2, 3)]
    # the webhook got night 2's summary and events
    [request] = receiver.requests
    document = json.loads(request["body"])
    assert document["run"]["id"] == 2
    assert document["run"]["status"] == {"live": 3, "lost": 2, "unverified": 1}
    assert document["changes"]["counts"] == {"lost": 2, "recovered": 0, "new": 1, "changed": 3}
    assert document["text"].startswith("linkcrawler run 2 completed: 6 backlinks, 3 live, 2 lost, 1 unverified.")
    # A webhook URL's path is its secret: verify prints the outcome, which elides it.
    assert not leaked
