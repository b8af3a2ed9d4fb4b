"""End to end: the real `linkcrawler prospect` / `prospects` CLI in a subprocess against a
scripted loopback web with many host names (--resolve), asserting what is stored (through
`prospects --format jsonl`), what is printed, and what the servers saw."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.loopback import LoopbackServer, Replies, RequestRecord, Reply, free_port

pytestmark = pytest.mark.slow

HOSTS = ["res.test", "guide.test", "dead.test", "tls.test", "slow.test", "soft.test", "homeredir.test",
         "ok.test", "busy.test", "private.test", "forbidden.test", "hop.test"]


def page(title: str, body: str) -> Reply:
    return Reply(200, f"<!doctype html><html><head><title>{title}</title></head><body>{body}</body></html>")


def soft_not_found(record: RequestRecord) -> Reply:
    # A soft-404 site: every unknown path is a 200 page echoing the path, with no tell-tale title.
    return page("Oops", f"<h1>Oops</h1><p>We looked everywhere for {record.path} but came up empty. "
                        "Try the search box or the archive.</p>")


def default_handler(record: RequestRecord) -> Reply:
    if record.host == "soft.test" and record.path != "/robots.txt":
        return soft_not_found(record)
    if record.host == "homeredir.test" and record.path not in ("/", "/robots.txt"):
        return Reply(302, headers={"Location": "/"})
    return Reply(404, "<html><head><title>404</title></head><body>nothing</body></html>")


def head_refused(record: RequestRecord) -> Reply:
    return Reply(405) if record.method == "HEAD" else page("Works with GET", "<p>fine</p>")


def head_broken(record: RequestRecord) -> Reply:
    return Reply(404) if record.method == "HEAD" else page("HEAD is broken here", "<p>fine</p>")


@dataclass(frozen=True)
class Web:
    server: LoopbackServer
    refused_port: int

    def url(self, host: str, path: str) -> str:
        return self.server.url(host, path)

    @property
    def expired(self) -> str:
        return "http://expired-domain.invalid/old-tool"

    @property
    def refused(self) -> str:
        return f"http://refused.test:{self.refused_port}/x"

    @property
    def tls(self) -> str:
        return self.server.url("tls.test", "/secure", scheme="https")

    def resolve_args(self) -> list[str]:
        return [*self.server.resolve_args(HOSTS), "--resolve", f"refused.test:{self.refused_port}:127.0.0.1"]


def build(server: LoopbackServer, refused_port: int) -> Web:
    web = Web(server, refused_port)
    u = web.url
    dead_links = [
        (u("dead.test", "/404"), "a tool that is gone"),
        (u("dead.test", "/410"), "a retired guide"),
        (u("hop.test", "/moved"), "a moved page"),
        (web.expired, "an expired domain"),
        (web.refused, "a refused server"),
        (web.tls, "a broken certificate"),
        (u("slow.test", "/stall"), "a stalled server"),
        (u("soft.test", "/gone-article"), "a soft 404"),
        (u("homeredir.test", "/deleted-post"), "a post sent home"),
    ]
    alive_links = [
        (u("ok.test", "/page"), "a fine page"),
        (u("ok.test", "/old"), "a redirect to a fine page"),
        (u("ok.test", "/head405"), "HEAD refused"),
        (u("ok.test", "/head404"), "HEAD broken"),
        (u("soft.test", "/real"), "a real article on a soft-404 site"),
        (u("homeredir.test", "/about"), "about"),
        (u("busy.test", "/rate"), "rate limited"),
        (u("private.test", "/page"), "robots says no"),
        (u("forbidden.test", "/x"), "forbidden"),
    ]
    items = "".join(f'<li>See <a href="{href}">{text}</a> for more.</li>' for href, text in dead_links + alive_links)
    server.route("res.test", "/links1", page("Resources", f'<ul>{items}</ul><p><a href="/sub">more</a></p>'))
    server.route("res.test", "/links2", page("More resources",
                                             f'<p>Old favourite: <a href="{u("dead.test", "/404")}">the tool</a>.</p>'
                                             f'<footer><a href="{u("ok.test", "/page")}">ok</a></footer>'))
    server.route("res.test", "/sub", page("Sub page",
                                          f'<p>Only here: <a href="{u("dead.test", "/only-in-sub")}">deep</a>.</p>'))
    server.route("guide.test", "/list", page("Guide",
                                             f'<nav><a href="{u("dead.test", "/404")}">nav tool</a></nav>'
                                             f'<p>And <a href="{web.expired}">an old tool</a> too.</p>'))
    server.route("dead.test", "/410", Reply(410))
    server.route("hop.test", "/moved", Reply(301, headers={"Location": "/gone-now"}))
    server.route("slow.test", "/stall", Reply(200, "late", delay=6))
    server.route("soft.test", "/real", page("A real article", "<p>" + "Real words about gardening. " * 20 + "</p>"))
    server.route("soft.test", "/robots.txt", Reply(404))
    server.route("homeredir.test", "/", page("Home", "<p>Welcome home</p>"))
    server.route("homeredir.test", "/about", page("About us", "<p>We are a small team.</p>"))
    server.route("ok.test", "/page", page("Fine", "<p>fine</p>"))
    server.route("ok.test", "/old", Reply(301, headers={"Location": "/new"}))
    server.route("ok.test", "/new", page("New home", "<p>moved here</p>"))
    server.route("ok.test", "/head405", head_refused)
    server.route("ok.test", "/head404", head_broken)
    server.route("busy.test", "/rate", Replies(Reply(429, headers={"Retry-After": "1"}), page("Finally", "ok")))
    server.route("private.test", "/robots.txt", Reply(200, "User-agent: *\nDisallow: /\n",
                                                      headers={"Content-Type": "text/plain"}))
    server.route("forbidden.test", "/x", Reply(403))
    server.default = default_handler
    return web


def cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", "linkcrawler", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


@dataclass(frozen=True)
class Outcome:
    web: Web
    proc: subprocess.CompletedProcess[str]
    db: str
    server: LoopbackServer  # stopped; its records stay readable

    @property
    def records(self) -> list[RequestRecord]:
        return self.server.records

    def prospects(self, *extra: str) -> list[dict]:
        out = cli("prospects", "--db", self.db, "--format", "jsonl", *extra)
        assert out.returncode == 0, out.stderr
        return [json.loads(line) for line in out.stdout.splitlines()]


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    tmp = tmp_path_factory.mktemp("prospect")
    db = f"sqlite:///{tmp / 'lc.db'}"
    with LoopbackServer() as server:
        web = build(server, free_port())
        seeds = tmp / "seeds.txt"
        seeds.write_text(f"# resource pages\n{web.url('res.test', '/links1')}\n\n{web.url('res.test', '/links2')}\n")
        proc = cli("prospect", str(seeds), web.url("guide.test", "/list"), "--same-site-depth", "1",
                   "--db", db, "--allow-private", "--delay", "0.05", "--timeout", "1.5", *web.resolve_args())
        return Outcome(web, proc, db, server)


def test_run_completes_and_prints_a_summary(outcome: Outcome) -> None:
    assert outcome.proc.returncode == 0, outcome.proc.stderr
    out = outcome.proc.stdout
    assert "completed" in out and "4 pages" in out
    assert "top prospects" in out and "domain_expired" in out


def test_every_dead_kind_is_found(outcome: Outcome) -> None:
    web = outcome.web
    u = web.url
    got = {p["url"]: (p["verdict"], p["kind"]) for p in outcome.prospects()}
    assert got == {
        u("dead.test", "/404"): ("dead", "not_found"),
        u("dead.test", "/410"): ("dead", "gone"),
        u("dead.test", "/only-in-sub"): ("dead", "not_found"),
        u("hop.test", "/moved"): ("dead", "not_found"),
        web.expired: ("domain_expired", "nxdomain"),
        web.refused: ("dead", "connection_refused"),
        web.tls: ("dead", "tls_error"),
        u("slow.test", "/stall"): ("dead", "timeout"),
        u("soft.test", "/gone-article"): ("dead", "soft_404"),
        u("homeredir.test", "/deleted-post"): ("dead", "soft_404"),
    }


def test_alive_traps_are_not_dead(outcome: Outcome) -> None:
    u = outcome.web.url
    verdicts = {}
    for verdict in ("alive", "blocked", "unchecked", "error"):
        for p in outcome.prospects("--verdict", verdict):
            verdicts[p["url"]] = (p["verdict"], p["kind"])
    assert verdicts == {
        u("ok.test", "/page"): ("alive", "http_200"),
        u("ok.test", "/old"): ("alive", "http_200"),
        u("ok.test", "/head405"): ("alive", "http_200"),
        u("ok.test", "/head404"): ("alive", "http_200"),
        u("soft.test", "/real"): ("alive", "http_200"),
        u("homeredir.test", "/about"): ("alive", "http_200"),
        u("busy.test", "/rate"): ("alive", "http_200"),
        u("private.test", "/page"): ("unchecked", "robots_disallowed"),
        u("forbidden.test", "/x"): ("blocked", "http_403"),
    }


def test_ranking_and_referrers(outcome: Outcome) -> None:
    web = outcome.web
    u = web.url
    prospects = outcome.prospects()
    # Expired domains first; then by referring domains and pages.
    assert [p["url"] for p in prospects[:2]] == [web.expired, u("dead.test", "/404")]
    top = prospects[1]
    assert (top["referring_pages"], top["referring_domains"]) == (3, 2)
    refs = {r["page_url"]: r for r in top["links"]}
    assert set(refs) == {u("res.test", "/links1"), u("res.test", "/links2"), u("guide.test", "/list")}
    assert refs[u("guide.test", "/list")]["position"] == "nav"
    assert refs[u("res.test", "/links2")]["anchor_text"] == "the tool"
    assert refs[u("res.test", "/links2")]["context_before"] == "Old favourite:"
    assert refs[u("res.test", "/links1")]["context_after"] == "for more."
    assert top["http_status"] == 404 and top["redirects"] == []
    moved = next(p for p in prospects if p["url"] == u("hop.test", "/moved"))
    assert moved["redirects"] == [{"url": u("hop.test", "/moved"), "status": 301}]
    assert moved["final_url"] == u("hop.test", "/gone-now") and moved["http_status"] == 404


def test_each_url_checked_once_and_pages_fetched_once(outcome: Outcome) -> None:
    recs = outcome.records
    pages = [r for r in recs if r.host in ("res.test", "guide.test") and r.path != "/robots.txt"]
    assert sorted(r.path for r in pages) == ["/links1", "/links2", "/list", "/sub"]
    # dead.test/404 is linked from three pages: one HEAD, one confirming GET.
    assert [r.method for r in recs if r.host == "dead.test" and r.path == "/404"] == ["HEAD", "GET"]
    assert [r.method for r in recs if r.host == "ok.test" and r.path == "/page"] == ["HEAD"]
    assert [r.method for r in recs if r.host == "ok.test" and r.path == "/head405"] == ["HEAD", "GET"]
    # Robots-disallowed: nothing but robots.txt was asked of private.test.
    assert [r.path for r in recs if r.host == "private.test"] == ["/robots.txt"]
    # The 429 was waited out (Retry-After: 1) before the second attempt.
    rate = [r for r in recs if r.host == "busy.test" and r.path == "/rate"]
    assert len(rate) == 2 and rate[1].start - rate[0].start >= 0.95


def test_one_request_in_flight_per_site(outcome: Outcome) -> None:
    in_flight = outcome.server.max_in_flight()
    # The server only notices that the crawler hung up on /stall when its 6 s delay is over, so
    # both timed-out attempts look open to it; every other site is measured exactly.
    in_flight.pop("slow.test")
    assert set(in_flight.values()) == {1}, in_flight


def test_csv_and_text_formats(outcome: Outcome) -> None:
    out = cli("prospects", "--db", outcome.db, "--format", "csv")
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    top404 = [r for r in rows if r["url"] == outcome.web.url("dead.test", "/404")]
    assert len(top404) == 3 and {r["rank"] for r in top404} == {"2"}
    text = cli("prospects", "--db", outcome.db).stdout
    assert "1. http://expired-domain.invalid/old-tool" in text and "domain_expired/nxdomain" in text
    assert "redirects: 301 " in text


def test_bad_seeds_are_refused(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("http://ok.test/\nnot a url\n")
    proc = cli("prospect", str(seeds), "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert proc.returncode == 2 and "line 2" in proc.stderr
    proc = cli("prospects", "--db", f"sqlite:///{tmp_path / 'y.db'}")
    assert proc.returncode == 2 and "no prospect run" in proc.stderr
