"""The HTML report (DESIGN §4, RELIABILITY SEC-2/SEC-5): runs built through the models with
hostile anchors and URLs, rendered, and checked with a real HTML parser (lxml): one script whose
hash the CSP allows, no event-handler attributes, only http(s) or fragment links, counts that
match the data; the table cap; the real CLI in a subprocess; and, when chromium is installed,
the page as a browser loads it."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html
from linkcrawler.enums import Reason
from linkcrawler.report import (
    ChangesSummary,
    EventRow,
    ReportData,
    RunInfo,
    TableRow,
    TrendPoint,
    clean_text,
    database_label,
    gather_report,
    render_report,
    safe_href,
)
# Histories are built the way the change tests build them: through the models, no crawl.
from tests.test_changes import History

REPO = Path(__file__).resolve().parent.parent

BIG = "A" * 65536
HOSTILE_ANCHORS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</td></tr></table><script>alert(2)</script>",
    "\u202egnp.exe\u202c harmless \u2066isolated\u2069",
    "emoji 🔗✨👩‍💻 and Ünïcødé",
    BIG,
    "-->]]><!-- <![CDATA[",
]
HOSTILE_URLS = [
    "JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    " javascript:alert(1)",
    "\x01javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "DATA:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "VBScript\n:msgbox(1)",
    'https://ok.test/"onmouseover="alert(1)',
    "https://ok.test/\u202egpj.exe",
    "https://" + "b" * 70000 + ".test/",
]
NOT_HREFS = HOSTILE_URLS


# --- building runs through the models -------------------------------------------------------

def build_history(url: str) -> tuple[History, dict[str, Any]]:
    """Three runs over a small web with hostile values; returns what the last run holds."""
    b = History(url)
    ids: list[int] = []
    # Ordinary backlinks on a few referring domains.
    for i in range(12):
        site = ["news.example", "blog.example.org", "shop.example.co.uk", "www.news.example"][i % 4]
        ids.append(b.backlink(f"https://{site}/post/{i}"))
    hostile_ids = []
    for i, anchor in enumerate(HOSTILE_ANCHORS):
        hostile_ids.append(b.backlink(f"https://evil{i}.test/page?q=<b>{i}</b>&x=\"y\""))
    url_ids = [b.backlink(f"https://weird.test/{i}", target=u) for i, u in enumerate(HOSTILE_URLS)]
    everything = ids + hostile_ids + url_ids

    first = {bid: "found" for bid in everything}
    b.run(first)
    b.run(first)
    last: dict[int, str | dict[str, Any]] = {}
    for n, bid in enumerate(ids):
        if n < 3:
            last[bid] = {"reason": "link_removed"}
        elif n == 3:
            last[bid] = {"reason": "page_not_found", "http_status": 404}
        elif n == 4:
            last[bid] = {"reason": "timeout", "error": "timeout after 30s: postgresql://u:hunter2@db.test/x"}
        elif n == 5:
            last[bid] = {"reason": "found", "rel": "nofollow", "follow": False}
        elif n == 6:
            last[bid] = {"reason": "found", "rel": "sponsored nofollow", "follow": False, "position": "footer"}
        elif n == 7:
            last[bid] = {"reason": "found", "rel": "ugc", "follow": False, "position": "comments"}
        elif n == 8:
            last[bid] = {"reason": "target_changed", "position": "sidebar"}
        else:
            last[bid] = "found"
    for bid, anchor in zip(hostile_ids, HOSTILE_ANCHORS):
        last[bid] = {"reason": "found", "anchor_text": anchor,
                     "link_url": "https://mysite.test/" + anchor[:40],
                     "final_url": "javascript:alert('final')"}
    for bid, u in zip(url_ids, HOSTILE_URLS):
        last[bid] = {"reason": "blocked", "final_url": u, "error": "<img src=x onerror=alert(1)>" + u[:50],
                     "link_url": u}
    run_id = b.run(last)
    return b, {"run_id": run_id, "results": last, "ids": ids}


def render_run(builder: History, run_id: int, **kwargs: Any) -> tuple[str, ReportData]:
    with builder.db.sessions() as session:
        data, rows = gather_report(session, run_id, database=database_label(str(builder.db.engine.url)),
                                   **kwargs)
        return render_report(data, rows), data


# --- HTML checks shared by the tests -----------------------------------------------------------

def csp_of(doc: Any) -> str:
    metas = [m for m in doc.iter("meta")
             if (m.get("http-equiv") or "").lower() == "content-security-policy"]
    assert len(metas) == 1, "exactly one CSP meta element"
    return metas[0].get("content")


def assert_safe_html(text: str) -> Any:
    """The SEC-2 properties, checked on the parsed document; returns it."""
    text.encode("utf-8")  # no lone surrogates left
    doc = lxml_html.document_fromstring(text)
    csp = csp_of(doc)
    directives = {d.split()[0]: d.split()[1:] for d in (p.strip() for p in csp.split(";")) if d}
    assert directives["default-src"] == ["'none'"]
    assert directives["img-src"] == ["data:"]
    assert "'unsafe-inline'" not in directives["script-src"]
    scripts = list(doc.iter("script"))
    assert len(scripts) == 1, f"expected our one script, found {len(scripts)}"
    assert scripts[0].get("src") is None
    digest = base64.b64encode(hashlib.sha256(scripts[0].text.encode("utf-8")).digest()).decode()
    assert directives["script-src"] == [f"'sha256-{digest}'"]
    for style in doc.iter("style"):
        digest = base64.b64encode(hashlib.sha256(style.text.encode("utf-8")).digest()).decode()
        assert f"'sha256-{digest}'" in directives["style-src"]
    # The CSP must come before anything it governs.
    head = doc.find("head")
    assert head is not None and head[0].tag == "meta" and head[1].get("http-equiv") is not None
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        for name, value in el.attrib.items():
            local = name.rsplit("}", 1)[-1].lower()
            assert not local.startswith("on"), f"event handler attribute {name} on <{el.tag}>"
            assert local != "style", "no inline style attributes (the CSP would block them)"
            if local in ("href", "src", "action", "formaction", "srcset", "poster", "data"):
                assert re.match(r"https?://[^\s]+$|#", value, re.I), f"{local}={value[:80]!r}"
        if el.tag in ("iframe", "object", "embed", "img", "form", "base", "link", "image", "use"):
            pytest.fail(f"unexpected <{el.tag}> element")
        if el.tag == "a" and el.get("href"):
            assert set(el.get("rel", "").split()) >= {"noopener", "noreferrer", "nofollow"}
    visible = doc.text_content()
    assert not re.search("[\u202a-\u202e\u2066-\u2069]", visible), "bidi controls neutralised"
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", visible)
    return doc


def card_numbers(doc: Any) -> dict[str, str]:
    out = {}
    for card in doc.get_element_by_id("summary").find_class("card"):
        label = card.find_class("l")[0].text_content().split(" · ")[0]
        out[label] = card.find_class("n")[0].text_content()
    return out


# --- tests ---------------------------------------------------------------------------------------

def test_report_from_models_is_safe_and_counts_match(sqlite_url: str) -> None:
    builder, info = build_history(sqlite_url)
    text, data = render_run(builder, info["run_id"])
    doc = assert_safe_html(text)

    results = info["results"]
    from collections import Counter

    statuses = Counter(Reason(r if isinstance(r, str) else r["reason"]).status.value for r in results.values())
    reasons = Counter(r if isinstance(r, str) else r["reason"] for r in results.values())
    cards = card_numbers(doc)
    assert cards["backlinks checked"] == f"{len(results):,}"
    for status in ("live", "lost", "unverified"):
        assert cards[status] == f"{statuses[status]:,}"
    shown_reasons = {
        tr[1].text_content(): int(tr[2].text_content().replace(",", ""))
        for tr in doc.get_element_by_id("reason-counts").find("tbody")
    }
    assert shown_reasons == dict(reasons)

    table = doc.get_element_by_id("results")
    rows = table.find("tbody").findall("tr")
    assert len(rows) == len(results)
    assert "cap-note" not in text
    # Most important first: lost, unverified, then changed live links, then the rest.
    order = [r.get("data-status") for r in rows]
    assert order == sorted(order, key=["lost", "unverified", "live"].index)
    changes = {int(r[0].text_content()): r[3].text_content() for r in rows if r[3].text_content()}
    ids = info["ids"]
    assert changes[ids[0]] == "lost" and changes[ids[3]] == "lost"
    assert changes[ids[5]].startswith("changed: follow, rel")
    assert ids[4] not in changes  # unverified: no lost, no recovered

    # Change section counts equal compute_changes'.
    from linkcrawler.changes import compute_changes, count_events

    with builder.db.sessions() as session:
        expected = count_events(compute_changes(session, info["run_id"] - 1, info["run_id"]))
    section = doc.get_element_by_id("changes")
    shown = {c.find_class("l")[0].text_content(): int(c.find_class("n")[0].text_content())
             for c in section.find_class("card")}
    assert shown == expected
    assert len(doc.get_element_by_id("events").find("tbody")) == sum(expected.values())

    # Hostile values are shown as text, never as markup or links.
    anchors = [r[6].text_content() for r in rows]
    assert "<script>alert(1)</script>" in anchors
    assert '"><img src=x onerror=alert(1)>' in anchors
    assert any(a.startswith("<U+202E>gnp.exe<U+202C>") for a in anchors)
    assert any("👩‍💻" in a for a in anchors)
    long = next(r[6] for r in rows if r[6].text_content().startswith("AAAA"))
    assert len(long.text_content()) < 400 and long[0].get("title", "").startswith("AAAA")
    hrefs = {a.get("href") for a in doc.iter("a")}
    for bad in NOT_HREFS:
        assert bad not in hrefs
    assert len(text) < 2_000_000  # 64 KB values are cut, not repeated

    # Charts are inline SVG only, drawn from the data.
    charts = doc.get_element_by_id("charts")
    assert len(list(charts.iter("svg"))) >= 6
    domains = charts.text_content()
    assert "news.example" in domains and "example.co.uk" in domains
    assert "hunter2" not in text  # a password in an error message is masked too (SEC-5)


def test_figures_agree_with_and_without_the_stats_module(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """linkcrawler.stats is used when present (anchor classes, events per run); without it the
    report computes the same figures itself and leaves the anchor chart out."""
    import linkcrawler.report as report

    builder, info = build_history(sqlite_url)
    text, with_stats = render_run(builder, info["run_id"])
    if report._optional("stats") is None:
        pytest.skip("linkcrawler.stats is not in this checkout")
    assert with_stats.anchor_classes and sum(n for _, n in with_stats.anchor_classes) == with_stats.count("live")
    assert "Anchor text classes" in text
    assert any(dict(p.events).get("lost") == 4 for p in with_stats.trend)
    real = report._optional
    monkeypatch.setattr(report, "_optional", lambda name: None if name == "stats" else real(name))
    text, without = render_run(builder, info["run_id"])
    assert_safe_html(text)
    assert "Anchor text classes" not in text and not without.anchor_classes
    assert without.referring_domains == with_stats.referring_domains
    assert without.top_domains == with_stats.top_domains
    assert without.positions == with_stats.positions
    assert [(p.run_id, p.live, p.lost, p.unverified) for p in without.trend] == [
        (p.run_id, p.live, p.lost, p.unverified) for p in with_stats.trend]


def test_render_of_hand_built_data_with_lone_surrogates_and_controls() -> None:
    hostile = "\ud800lone\udfff \x00nul \x1bESC \x85nel \u202eRLO"
    data = ReportData(
        run=RunInfo(7, "completed<b>", dt.datetime(2025, 1, 1), None, tag=hostile),
        database="postgresql://user:pw@db.test/x",
        generated_at=dt.datetime(2025, 1, 2),
        status_counts=(("live", 1), ("lost", 1), ("unverified", 0), ("weird\"<", 1)),
        reason_counts=(("live", "found", 1), ("lost", "link_removed", 1), ("weird\"<", hostile, 1)),
        follow_shares=(("follow", 1),),
        positions=((hostile, 1),),
        referring_domains=1,
        top_domains=((hostile + "<svg onload=alert(1)>", 1),),
        trend=(TrendPoint(6, None, 1, 0, 0), TrendPoint(7, None, 1, 1, 0)),
        changes=ChangesSummary(6, (("lost", 1), ("recovered", 0), ("changed", 1), ("new", 0)), (
            EventRow(1, "javascript:alert(1)", hostile, "lost", None, "found", "link_removed"),
            EventRow(2, "https://a.test/", "x", "changed", "anchor_text", hostile, "<script>x</script>"),
        ), 500),
        changes_note="",
        table_rows=2,
        max_rows=5000,
        anchor_classes=((hostile, 3),),
        notes=(hostile,),
    )
    rows = [
        TableRow(1, "JaVaScRiPt:alert(1)", hostile, "live", "found", True, "nofollow " + hostile, hostile,
                 hostile, "java\tscript:alert(1)", 200, "data:text/html,<script>", ("anchor", hostile),
                 hostile, "changed: " + hostile),
        TableRow(2, "https://ok.test/a?b=1&c=2", "https://mysite.test/", "lost\" onclick=\"x", hostile,
                 None, None, None, None, None, None, None, (), None, None),
    ]
    text = render_report(data, rows)
    doc = assert_safe_html(text)
    assert "pw@" not in text and "user:***@" in text
    assert "\ufffdlone\ufffd" in doc.text_content()
    links = [a.get("href") for a in doc.get_element_by_id("results").iter("a")]
    assert links == ["https://ok.test/a?b=1&c=2", "https://mysite.test/"]
    assert doc.get_element_by_id("results").find("tbody")[1].get("data-status") == "other"


@pytest.mark.parametrize("url", HOSTILE_URLS[:-3] + [
    "", "http://", "https://", "https:///path", "http:/x.test/", "//x.test/", "ftp://x.test/",
    "https://x.test/ space", "https://x.test/\\back", "https://@x.test/", "file:///etc/passwd",
    "https://x.test/\ud800",
])
def test_safe_href_refuses(url: str) -> None:
    assert safe_href(url) is None


@pytest.mark.parametrize("url", [
    "http://x.test/", "HTTPS://X.test/a?b=c&d=e#f", "https://xn--bcher-kva.example/%20x",
    "https://user@x.test:8443/p", "https://[::1]:8080/",
])
def test_safe_href_allows_http_urls(url: str) -> None:
    assert safe_href(url) == url


def test_clean_text_makes_bidi_visible_and_cuts() -> None:
    assert clean_text("a\u202eb\u2066c\u2069") == "a<U+202E>b<U+2066>c<U+2069>"
    assert clean_text("x" * 100, 10) == "x" * 10 + "…"
    assert clean_text("\ud83d") == "\ufffd"
    assert clean_text("tab\tnew\nline") == "tab\tnew\nline"
    assert clean_text(None) == ""


def test_database_label_hides_passwords() -> None:
    assert "s3cret" not in database_label("postgresql+psycopg://app:s3cret@db.test:5432/lc")
    assert "s3cret" not in database_label("not a url://app:s3cret@host")
    assert database_label("sqlite:///data/x.db") == "sqlite:///data/x.db"


def test_table_is_capped_most_important_first(sqlite_url: str) -> None:
    b = History(sqlite_url)
    ids = [b.backlink(f"https://site{i % 7}.test/p{i}") for i in range(40)]
    b.run({bid: "found" for bid in ids})
    last: dict[int, str | dict[str, Any]] = {bid: "found" for bid in ids}
    for bid in ids[30:34]:
        last[bid] = "link_removed"
    for bid in ids[20:23]:
        last[bid] = "timeout"
    for bid in ids[5:10]:
        last[bid] = {"reason": "found", "position": "footer"}
    run_id = b.run(last)
    text, data = render_run(b, run_id, max_rows=10)
    doc = assert_safe_html(text)
    rows = doc.get_element_by_id("results").find("tbody").findall("tr")
    assert [int(r[0].text_content()) for r in rows] == ids[30:34] + ids[20:23] + ids[5:8]
    assert [r[3].text_content() for r in rows[7:]] == ["changed: position"] * 3
    note = doc.get_element_by_id("cap-note").text_content()
    assert "40 results" in note and "10 most important" in note
    assert card_numbers(doc)["backlinks checked"] == "40"


def test_first_run_has_no_comparison_and_empty_run_renders(sqlite_url: str) -> None:
    b = History(sqlite_url)
    bid = b.backlink("https://a.test/")
    run_id = b.run({bid: "found"})
    text, _ = render_run(b, run_id)
    doc = assert_safe_html(text)
    assert "no earlier completed run" in doc.get_element_by_id("changes").text_content()
    empty = b.run({})
    text, _ = render_run(b, empty)
    doc = assert_safe_html(text)
    assert card_numbers(doc)["backlinks checked"] == "0"
    assert len(doc.get_element_by_id("results").find("tbody")) == 0


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("LINKCRAWLER_DB", None)
    return subprocess.run([sys.executable, "-m", "linkcrawler", "report", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_writes_report_and_refuses_bad_run(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'lc.db'}"
    builder, info = build_history(db_url)
    builder.db.engine.dispose()
    out = tmp_path / "report.html"
    done = _cli("--db", db_url, "-o", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    assert_safe_html(text)
    assert f"run #{info['run_id']}" in text
    assert "lc.db" in text  # names its database
    assert not list(tmp_path.glob(".report-*"))  # no temporary file left behind

    done = _cli("--db", db_url, "--run", "1", "-o", str(tmp_path / "r1.html"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "run #1" in (tmp_path / "r1.html").read_text(encoding="utf-8")

    for bad in ("999", "abc", "-1"):
        done = _cli("--db", db_url, "--run", bad, "-o", str(tmp_path / "bad.html"), cwd=tmp_path)
        assert done.returncode == 2
        assert "no run" in done.stderr and "Traceback" not in done.stderr
        assert not (tmp_path / "bad.html").exists()
    done = _cli("--db", db_url, cwd=tmp_path)
    assert done.returncode == 2 and "-o" in done.stderr
    done = _cli("--db", db_url, "-o", str(tmp_path / "missing" / "r.html"), cwd=tmp_path)
    assert done.returncode == 2 and "does not exist" in done.stderr


@pytest.mark.postgres
def test_cli_never_shows_the_database_password(pg_url: str, tmp_path: Path) -> None:
    """SEC-5 through the real CLI: the test server trusts local connections, so a URL with a
    password connects, and the password must appear neither in the page nor on stderr."""
    from sqlalchemy.engine import make_url

    builder, info = build_history(pg_url)
    builder.db.engine.dispose()
    secret_url = make_url(pg_url).set(password="s3cretpw").render_as_string(hide_password=False)
    out = tmp_path / "report.html"
    done = _cli("--db", secret_url, "-o", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    assert_safe_html(text)
    assert "s3cretpw" not in text and "s3cretpw" not in done.stderr
    assert ":***@" in text
    done = _cli("--db", secret_url, "--run", "999", "-o", str(out), cwd=tmp_path)
    assert done.returncode == 2 and "s3cretpw" not in done.stderr


def test_cli_with_no_runs_is_a_usage_error(tmp_path: Path) -> None:
    done = _cli("--db", f"sqlite:///{tmp_path / 'empty.db'}", "-o", str(tmp_path / "r.html"), cwd=tmp_path)
    assert done.returncode == 2
    assert "no runs yet" in done.stderr


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def _load_in_chromium(page: Path, fragment: str = "") -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
             "--virtual-time-budget=5000", "--dump-dom", page.as_uri() + fragment],
            capture_output=True, text=True, timeout=120,
        )


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("CI", "").lower() == "true",
                    reason="CI does not install chromium (.ci/run has no apt step)")
@pytest.mark.skipif(_chromium() is None, reason="chromium is not installed")
def test_browser_runs_our_script_and_nothing_else(sqlite_url: str, tmp_path: Path) -> None:
    """In a real browser: our script runs under the CSP (it marks <html> and sorts the table
    from the URL fragment) and the console reports no CSP violation; a copy of the page with
    an injected script and event handler shows the CSP blocking them and the check seeing it."""
    builder, info = build_history(sqlite_url)
    text, _ = render_run(builder, info["run_id"])
    page = tmp_path / "report.html"
    page.write_text(text, encoding="utf-8")
    done = _load_in_chromium(page, "#sort=9-desc")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Content Security Policy" not in done.stderr, done.stderr[-2000:]
    dom = lxml_html.document_fromstring(done.stdout)
    assert dom.get("data-script") == "ready"
    rows = dom.get_element_by_id("results").find("tbody").findall("tr")
    http = [r[9].text_content() for r in rows]
    numbers = [int(h) for h in http if h]
    assert numbers == sorted(numbers, reverse=True) and http[: len(numbers)] == [str(n) for n in numbers]
    assert dom.get_element_by_id("results").find("thead")[0][9].get("aria-sort") == "descending"
    assert len(list(dom.iter("script"))) == 1 and not list(dom.iter("img"))

    injected = tmp_path / "injected.html"
    injected.write_text(text.replace(
        "<main>", '<main><script>document.documentElement.setAttribute("data-evil", "1")</script>'
        '<svg><rect width="1" height="1" onload="document.title=1"/></svg>', 1), encoding="utf-8")
    done = _load_in_chromium(injected)
    assert done.returncode == 0, done.stderr[-2000:]
    dom = lxml_html.document_fromstring(done.stdout)
    assert dom.get("data-evil") is None and dom.get("data-script") == "ready"
    assert "violates the following Content Security Policy directive" in done.stderr
