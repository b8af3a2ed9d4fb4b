"""Unit tests of prospect classification (pure, on fixtures) and of prospect storage/ranking."""

from __future__ import annotations

import socket
from pathlib import Path
from types import SimpleNamespace

import pytest

from linkcrawler.enums import Reason
from linkcrawler.errors import UsageError
from linkcrawler.prospects import (
    DeadKind,
    DnsFinding,
    FetchFacts,
    RowBuffer,
    Verdict,
    check_row,
    classify,
    dns_finding,
    internal_url,
    link_row,
    looks_soft_404,
    needs_get,
    needs_probe,
    not_found_title,
    outbound_url,
    page_fingerprint,
    page_row,
    probe_url,
    ranked_prospects,
    read_seeds,
    redirect_text,
    robots_failure_cause,
    run_counts,
    save_rows,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "prospect"
URL = "http://tools.example/old-tool"


def head(status: int | None = None, **kw) -> FetchFacts:  # noqa: ANN003
    return FetchFacts("HEAD", status, final_url=kw.pop("final_url", URL), **kw)


def get(status: int | None = None, **kw) -> FetchFacts:  # noqa: ANN003
    return FetchFacts("GET", status, final_url=kw.pop("final_url", URL), **kw)


def fixture_facts(name: str, url: str = URL, status: int = 200, **kw) -> FetchFacts:  # noqa: ANN003
    title, words = page_fingerprint((FIXTURES / name).read_bytes(), "text/html")
    return FetchFacts("GET", status, final_url=kw.pop("final_url", url), title=title, words=words, **kw)


def verdict(c) -> tuple[Verdict, str]:  # noqa: ANN001
    return c.verdict, c.kind


# --- which answers need a GET -----------------------------------------------------------------

@pytest.mark.parametrize(("status", "expected"), [
    (200, False), (204, False), (429, False), (None, False),
    (405, True), (501, True), (404, True), (410, True), (403, True), (401, True), (500, True), (400, True),
])
def test_needs_get(status: int | None, expected: bool) -> None:
    assert needs_get(head(status)) is expected


def test_a_site_root_is_never_compared_with_the_probe() -> None:
    assert not needs_probe("http://tools.example/")
    assert needs_probe("http://tools.example/a") and needs_probe("http://tools.example/?p=3")


def test_probe_url_is_on_the_same_origin_and_random() -> None:
    a, b = probe_url("https://x.example:8443/deep/path?q=1"), probe_url("https://x.example:8443/")
    assert a.startswith("https://x.example:8443/lc-probe-") and a != b


# --- status verdicts --------------------------------------------------------------------------

@pytest.mark.parametrize(("h", "g", "expected"), [
    (head(200), None, (Verdict.ALIVE, "http_200")),
    (head(404), get(404), (Verdict.DEAD, DeadKind.NOT_FOUND)),
    (head(410), get(410), (Verdict.DEAD, DeadKind.GONE)),
    (head(404), get(200), (Verdict.ALIVE, "http_200")),  # HEAD unreliable: GET decides
    (head(405), get(200), (Verdict.ALIVE, "http_200")),
    (head(501), get(404), (Verdict.DEAD, DeadKind.NOT_FOUND)),
    (head(403), get(403), (Verdict.BLOCKED, "http_403")),
    (head(401), get(401), (Verdict.BLOCKED, "http_401")),
    (head(429), None, (Verdict.BLOCKED, "http_429")),
    (head(403), get(404), (Verdict.DEAD, DeadKind.NOT_FOUND)),
    (head(500), get(503), (Verdict.ERROR, "http_503")),
    (head(404), get(302), (Verdict.ERROR, "http_302")),  # a 3xx without Location ends nowhere
])
def test_status_verdicts(h: FetchFacts, g: FetchFacts | None, expected: tuple[Verdict, str]) -> None:
    assert verdict(classify(URL, h, g)) == expected


def test_a_redirect_chain_ending_dead_is_dead_with_its_chain() -> None:
    hops = ({"url": URL, "status": 301}, {"url": "http://tools.example/b", "status": 302})
    result = classify(URL, head(404, redirects=hops, final_url="http://tools.example/c"),
                      get(404, redirects=hops, final_url="http://tools.example/c"))
    assert verdict(result) == (Verdict.DEAD, DeadKind.NOT_FOUND)
    assert result.redirects == hops and result.final_url == "http://tools.example/c" and result.method == "GET"
    assert redirect_text(result.redirects, result.final_url) == (
        f"301 {URL} -> 302 http://tools.example/b -> http://tools.example/c")


def test_a_redirect_chain_ending_alive_is_alive() -> None:
    hops = ({"url": URL, "status": 301},)
    assert classify(URL, head(200, redirects=hops, final_url="http://tools.example/new")).verdict is Verdict.ALIVE


# --- network failures -------------------------------------------------------------------------

@pytest.mark.parametrize(("facts", "expected"), [
    (head(error=Reason.DNS_ERROR, dns=DnsFinding.DOMAIN_GONE), (Verdict.DOMAIN_EXPIRED, DeadKind.NXDOMAIN)),
    (head(error=Reason.DNS_ERROR, dns=DnsFinding.HOST_GONE), (Verdict.DEAD, DeadKind.NXDOMAIN)),
    (head(error=Reason.DNS_ERROR, dns=DnsFinding.TEMPORARY), (Verdict.ERROR, "dns_error")),
    (head(error=Reason.DNS_ERROR), (Verdict.ERROR, "dns_error")),  # never looked up again
    (head(error=Reason.TIMEOUT, attempts=1), (Verdict.ERROR, "timeout")),  # not confirmed
    (head(error=Reason.TIMEOUT, attempts=2), (Verdict.DEAD, DeadKind.TIMEOUT)),
    (head(error=Reason.CONNECTION_ERROR, detail="Connection was refused by other side: 111"),
     (Verdict.DEAD, DeadKind.CONNECTION_REFUSED)),
    (head(error=Reason.CONNECTION_ERROR, detail="ResponseNeverReceived: connection lost"),
     (Verdict.ERROR, "connection_error")),
    (head(error=Reason.TLS_ERROR, detail="certificate verify failed"), (Verdict.DEAD, DeadKind.TLS_ERROR)),
    (head(error=Reason.ROBOTS_DISALLOWED), (Verdict.UNCHECKED, "robots_disallowed")),
    (head(error=Reason.ROBOTS_UNAVAILABLE), (Verdict.UNCHECKED, "robots_unavailable")),
    (head(error=Reason.BLOCKED), (Verdict.BLOCKED, "blocked")),
    (head(error=Reason.BLOCKED_ADDRESS), (Verdict.BLOCKED, "blocked_address")),
    (head(error=Reason.REDIRECT_LOOP), (Verdict.ERROR, "redirect_loop")),
    (head(error=Reason.TOO_MANY_REDIRECTS), (Verdict.ERROR, "too_many_redirects")),
])
def test_failure_verdicts(facts: FetchFacts, expected: tuple[Verdict, str]) -> None:
    result = classify(URL, facts)
    assert verdict(result) == expected
    assert result.status is None and result.error is not None


def test_a_chain_ending_on_a_vanished_domain_is_dead_not_expired() -> None:
    # tools.example is alive and redirects; only the domain it sends us to is gone.
    facts = head(error=Reason.DNS_ERROR, dns=DnsFinding.DOMAIN_GONE, final_url="http://gone.example/x",
                 redirects=({"url": URL, "status": 301},))
    assert verdict(classify(URL, facts)) == (Verdict.DEAD, DeadKind.NXDOMAIN)


def test_robots_failure_causes() -> None:
    # Detail texts as robots.py and Scrapy 2.19 word them.
    assert robots_failure_cause(
        "robots.txt http://x.invalid/robots.txt unreachable (CannotResolveHostError: DNS lookup failed: "
        "no results for hostname lookup: x.invalid.): nothing of http://x.invalid:80 is fetched") is Reason.DNS_ERROR
    assert robots_failure_cause(
        "robots.txt http://r.test:1/robots.txt unreachable (DownloadConnectionRefusedError: Connection was "
        "refused by other side: 111: Connection refused.)") is Reason.CONNECTION_ERROR
    assert robots_failure_cause(
        "robots.txt https://t.test/robots.txt unreachable (DownloadFailedError: [<twisted.python.failure.Failure "
        "OpenSSL.SSL.Error: [('SSL routines', '', 'wrong version number')]>])") is Reason.TLS_ERROR
    assert robots_failure_cause("robots.txt http://s.test/robots.txt unreachable (DownloadTimeoutError: "
                                "Getting http://s.test/robots.txt took longer than 1.0 seconds.)") is Reason.TIMEOUT
    assert robots_failure_cause("robots.txt http://b.test/robots.txt answered 503: nothing of ...") is None


def _resolver(table: dict[str, int | None]):  # noqa: ANN202
    def resolve(name: str, port: object) -> list:
        code = table.get(name, socket.EAI_NONAME)
        if code is None:
            return [("ok",)]
        raise socket.gaierror(code, "fake")
    return resolve


def test_dns_finding_tells_expired_domains_from_gone_hosts_and_flaky_resolvers() -> None:
    assert dns_finding("old.gone.example", _resolver({})) is DnsFinding.DOMAIN_GONE
    assert dns_finding("gone.example", _resolver({})) is DnsFinding.DOMAIN_GONE
    assert dns_finding("old.live.example", _resolver({"live.example": None})) is DnsFinding.HOST_GONE
    assert dns_finding("old.live.example", _resolver({"www.live.example": None})) is DnsFinding.HOST_GONE
    assert dns_finding("x.flaky.example", _resolver({"x.flaky.example": socket.EAI_AGAIN})) is DnsFinding.TEMPORARY
    assert dns_finding("x.flaky.example", _resolver({"flaky.example": socket.EAI_AGAIN})) is DnsFinding.TEMPORARY
    assert dns_finding("back.example", _resolver({"back.example": None})) is DnsFinding.TEMPORARY


# --- soft 404 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [
    "not_found_wordpress.html", "not_found_de.html", "not_found_fr.html", "not_found_es.html",
    "not_found_ja.html", "not_found_ru.html", "error_404_title.html",
])
def test_not_found_titles_in_several_languages(name: str) -> None:
    facts = fixture_facts(name)
    assert not_found_title(facts.title)
    assert verdict(classify(URL, head(404), facts)) == (Verdict.DEAD, DeadKind.SOFT_404)


@pytest.mark.parametrize("name", ["live_404_club.html", "live_http_404_explained.html", "live_article.html"])
def test_live_titles_are_not_soft_404s(name: str) -> None:
    facts = fixture_facts(name)
    assert not not_found_title(facts.title)
    assert classify(URL, head(405), facts).verdict is Verdict.ALIVE


def _shell(url: str) -> FetchFacts:
    from urllib.parse import urlsplit

    html = (FIXTURES / "soft_shell.html").read_text().replace("{path}", urlsplit(url).path)
    title, words = page_fingerprint(html)
    return FetchFacts("GET", 200, final_url=url, title=title, words=words)


def test_a_page_like_the_random_path_probe_is_a_soft_404() -> None:
    probe = _shell(probe_url(URL, "0123456789abcdef01234567"))
    page = _shell("http://tools.example/a-long/deleted-article-about-tomatoes")
    assert looks_soft_404("http://tools.example/a-long/deleted-article-about-tomatoes", page, probe)
    assert verdict(classify("http://tools.example/a-long/deleted-article-about-tomatoes", head(200), page, probe)) == (
        Verdict.DEAD, DeadKind.SOFT_404)


def test_a_real_page_on_a_soft_404_site_is_alive() -> None:
    probe = _shell(probe_url(URL, "0123456789abcdef01234567"))
    assert not looks_soft_404(URL, fixture_facts("live_article.html"), probe)


def test_a_host_answering_404_to_the_probe_is_never_compared() -> None:
    probe = FetchFacts("GET", 404, final_url=probe_url(URL))
    page = _shell(URL)  # even a page that looks like a shell: the host serves real 404s
    assert not looks_soft_404(URL, page, probe)


def test_redirects_to_where_unknown_paths_go_are_soft_404s() -> None:
    home = "http://tools.example/"
    probe = FetchFacts("GET", 200, final_url=home, redirects=({"url": probe_url(URL), "status": 302},), title="Home")
    sent_home = FetchFacts("HEAD", 200, final_url=home, redirects=({"url": URL, "status": 302},))
    moved = FetchFacts("HEAD", 200, final_url="http://tools.example/new-tool", redirects=({"url": URL, "status": 301},))
    assert looks_soft_404(URL, sent_home, probe)
    assert not looks_soft_404(URL, moved, probe)
    assert not looks_soft_404(home, FetchFacts("HEAD", 200, final_url=home), probe)  # the home page itself


def test_fingerprint_survives_bad_input() -> None:
    assert page_fingerprint(b"") == ("", frozenset())
    assert page_fingerprint(b"\x00\xff\xfe<title>x</title>")[0] in ("x", "")
    title, words = page_fingerprint(b"<title> A  b </title><script>nope()</script><p>Hello world")
    assert title == "A b" and "hello" in words and "nope" not in words


# --- links and seeds --------------------------------------------------------------------------

def test_outbound_and_internal_links() -> None:
    page = "https://blog.garden.example/resources"
    assert outbound_url(page, "https://Tools.Example/x#frag") == "https://tools.example/x"
    assert outbound_url(page, "https://shop.garden.example/") is None  # same registrable domain
    assert outbound_url(page, None) is None and outbound_url(page, "mailto:a@b.example") is None
    sites = frozenset({"garden.example"})
    assert internal_url(sites, page, "https://garden.example/more") == "https://garden.example/more"
    assert internal_url(sites, page, "https://tools.example/") is None
    assert internal_url(sites, page, "https://garden.example/guide.PDF") is None


def test_read_seeds(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds.txt"
    seeds.write_bytes("\ufeff# resource pages\nhttp://a.example/links\n\n  http://A.example/links  \n".encode())
    assert read_seeds([str(seeds), "https://b.example/x"]) == ["http://a.example/links", "https://b.example/x"]
    seeds.write_text("http://a.example/\nftp://nope\nnot a url\n")
    with pytest.raises(UsageError, match="line 2.*\n.*line 3"):
        read_seeds([str(seeds)])
    with pytest.raises(UsageError, match="neither"):
        read_seeds([str(tmp_path / "missing.txt")])


# --- storage and ranking ----------------------------------------------------------------------

def _link(anchor: str, position: str = "body") -> SimpleNamespace:
    return SimpleNamespace(href="x", anchor_text=anchor, img_alt="", rel=("nofollow",), nofollow=True,
                           position=position, hidden=False, context_before="see", context_after="now", path="html/body/a")


def test_ranked_prospects(db_url: str) -> None:
    from linkcrawler.db import open_database
    from linkcrawler.runs import create_run

    database = open_database(db_url)
    with database.sessions.begin() as session:
        run_id = create_run(session, tag=None, options={}, kind="prospect").id
        rows = RowBuffer()
        dead_a, dead_b, expired, alive = ("http://a.example/1", "http://b.example/2", "http://gone.example/",
                                          "http://ok.example/")
        referrers = {dead_a: ["http://r1.example/p", "http://r1.example/q"],  # 2 pages, 1 domain
                     dead_b: ["http://r1.example/p", "http://r2.example/p"],  # 2 pages, 2 domains
                     expired: ["http://r3.example/p"],
                     alive: ["http://r1.example/p"]}
        ordinal = 0
        for url, pages in referrers.items():
            for page in pages:
                ordinal += 1
                rows.links.append(link_row(run_id, page, ordinal, url, _link(f"to {url}")))
        for page in {p for pages in referrers.values() for p in pages}:
            rows.pages.append(page_row(run_id, page, depth=0, status=200, final_url=page, title="t",
                                       outbound=1, error=None))
        rows.checks += [
            check_row(run_id, dead_a, classify(dead_a, head(404), get(404, final_url=dead_a))),
            check_row(run_id, dead_b, classify(dead_b, head(410), get(410, final_url=dead_b))),
            check_row(run_id, expired, classify(expired, head(error=Reason.DNS_ERROR, dns=DnsFinding.DOMAIN_GONE,
                                                               final_url=expired))),
            check_row(run_id, alive, classify(alive, head(200, final_url=alive))),
        ]
        save_rows(session, rows)
        save_rows(session, rows)  # re-delivered rows are ignored
    with database.sessions() as session:
        ranked = ranked_prospects(session, run_id)
        assert [(p.rank, p.url, p.referring_domains, p.referring_pages) for p in ranked] == [
            (1, expired, 1, 1), (2, dead_b, 2, 2), (3, dead_a, 1, 2)]
        assert ranked[2].referrers[0].rel == ("nofollow",) and ranked[2].referrers[0].anchor_text == f"to {dead_a}"
        assert ranked[1].as_json(run_id)["links"][0]["context_before"] == "see"
        assert [p.url for p in ranked_prospects(session, run_id, [Verdict.ALIVE])] == [alive]
        counts = run_counts(session, run_id)
        assert (counts.pages, counts.links) == (4, 6)
        assert counts.checks[("dead", "not_found")] == 1 and counts.checks[("domain_expired", "nxdomain")] == 1
    database.engine.dispose()
