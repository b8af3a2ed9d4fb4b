"""Broken-link-building prospects (DESIGN §7): deciding whether an outbound URL is dead, and
storing and ranking what a prospect run found. Pure functions plus repository functions
(session first, never commit); the spider only gathers the facts these functions judge.

How one outbound URL is checked
-------------------------------
1. HEAD. A 2xx (after redirects) is alive unless the soft-404 test below says otherwise.
2. GET when the HEAD answer cannot be trusted (`needs_get`): 405/501 (HEAD refused), and every
   other non-2xx except 429 — servers whose routing forgets HEAD answer 404/403/500 to it while
   GET works, so nothing is called dead or blocked on a HEAD answer alone. 429 is not re-asked:
   the retry layer already waited out Retry-After, and asking again would only push harder.
3. Network failures are not re-asked with another method (the host, not the method, failed);
   the retry layer retries timeouts and refused connections, so a timeout that reaches us has
   been confirmed by at least one more attempt (the spider re-asks once itself otherwise).

Verdicts (`Verdict`), each with a `kind` saying why
---------------------------------------------------
- domain_expired: the linked URL's registrable domain does not exist (NXDOMAIN for the host,
  and for the domain and its www. host, looked up again directly: `dns_finding`). Kept apart
  from dead because the domain can be registered again: the best prospects. A host that does
  not exist on a domain that does is dead/nxdomain. A temporary resolver failure (EAI_AGAIN,
  SERVFAIL, no answer) is `error`, never dead.
- dead: 404 (`not_found`), 410 (`gone`), connection refused, TLS failure, timeout confirmed by a
  retry, soft 404 (`soft_404`); also when a redirect chain ends in any of these (the chain is
  stored; an NXDOMAIN at the end of a chain from a live host is `dead`/`nxdomain`, not
  domain_expired: the linked domain itself is still registered).
- blocked: 401, 403, 429 (after retries), or the address guard refused the destination: the
  site refused us; never dead.
- unchecked: robots.txt forbids us the URL (or robots.txt was unavailable, which RFC 9309
  reads as "crawl nothing"): we did not look, so never dead.
- error: inconclusive failures — 5xx that persisted, temporary DNS failures, redirect loops or
  overlong chains, invalid redirect targets. Neither dead nor alive.
- alive: everything else (2xx, 3xx chains ending 2xx, other statuses that are not failures).

Soft 404 heuristic (`looks_soft_404`)
-------------------------------------
A 200 page that says "not found". Two signals, either suffices:
a) its <title> contains a "not found" phrase in one of the languages of `NOT_FOUND_PHRASES`
   (English, German, French, Spanish, Italian, Portuguese, Dutch, Polish, Swedish, Turkish,
   Czech, Russian, Japanese, Chinese), or starts with / is "404"-style wording;
b) the host answers 2xx to a random path that cannot exist (one probe per origin per run,
   `probe_url`), and the page resembles that probe: both were redirected to the same final
   URL (the site sends unknown paths to, say, its home page), or the titles are equal and the
   visible text is at least `SOFT_404_SIMILARITY` alike (Jaccard of word sets, with the
   requested path's words removed, since "not found" pages often echo the path).
Only a host whose random path answers 2xx is ever compared (a host that answers 404 to it
serves real 404s), and a site's home page (path "/") is never a soft 404. A single-page app
that serves one identical shell for every path is indistinguishable from a soft 404 from HTML
alone: its pages are reported soft_404 only if the shell is also what the probe got, title and
text alike.
"""

from __future__ import annotations

import enum
import json
import re
import secrets
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linkcrawler.db import ProspectCheck, ProspectLink, ProspectPage, Run, insert_ignoring_conflicts, url_hash
from linkcrawler.enums import Reason
from linkcrawler.errors import UsageError
from linkcrawler.urls import host_of, normalize_url, registrable_domain

RUN_KIND = "prospect"
# Visible-text similarity above which a 200 page is "the same page" as the random-path probe.
SOFT_404_SIMILARITY = 0.9
# A check GET reads at most this much of the body: the title and enough text to compare.
CHECK_BODY_BYTES = 64 * 1024


class Verdict(enum.StrEnum):
    DOMAIN_EXPIRED = "domain_expired"
    DEAD = "dead"
    BLOCKED = "blocked"
    UNCHECKED = "unchecked"
    ERROR = "error"
    ALIVE = "alive"

    @property
    def is_dead(self) -> bool:
        return self in (Verdict.DOMAIN_EXPIRED, Verdict.DEAD)


class DnsFinding(enum.StrEnum):
    """What a second, direct look at DNS says after a fetch failed to resolve a host."""

    DOMAIN_GONE = "domain_gone"  # neither the host nor its registrable domain exists
    HOST_GONE = "host_gone"  # the host does not exist, its registrable domain does
    TEMPORARY = "temporary"  # the resolver failed to answer, or the name resolves now


class DeadKind(enum.StrEnum):
    NOT_FOUND = "not_found"
    GONE = "gone"
    NXDOMAIN = "nxdomain"
    CONNECTION_REFUSED = "connection_refused"
    TLS_ERROR = "tls_error"
    TIMEOUT = "timeout"
    SOFT_404 = "soft_404"


# Verdict order in listings: the best prospects first.
VERDICT_ORDER = {v: i for i, v in enumerate(Verdict)}


@dataclass(frozen=True, slots=True)
class FetchFacts:
    """What one request of a check (or a probe) ended with, as the spider saw it."""

    method: str  # "HEAD" or "GET"
    status: int | None = None  # final HTTP status, None on a network failure
    final_url: str | None = None
    redirects: tuple[dict[str, Any], ...] = ()  # [{url, status}] before final_url
    error: Reason | None = None  # why there is no status (or why the chain stopped)
    detail: str = ""
    dns: DnsFinding | None = None  # after a DNS failure: see `dns_finding`
    attempts: int = 1
    title: str | None = None  # GET of an HTML page only
    words: frozenset[str] | None = None  # visible text words, GET of an HTML page only

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True, slots=True)
class Classification:
    verdict: Verdict
    kind: str  # a DeadKind for dead verdicts; otherwise why not dead (http_403, robots_disallowed...)
    status: int | None
    final_url: str | None
    redirects: tuple[dict[str, Any], ...]
    method: str
    attempts: int
    error: str | None = None


# --- deciding ----------------------------------------------------------------------------------

def needs_get(head: FetchFacts) -> bool:
    """Whether a HEAD answer must be confirmed (or replaced) by a GET (see the module doc)."""
    if head.status is None:
        return False
    return not (200 <= head.status < 300) and head.status != 429


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def is_site_root(url: str) -> bool:
    parts = urlsplit(url)
    return parts.path in ("", "/") and not parts.query


def needs_probe(url: str) -> bool:
    """Whether a 2xx answer for `url` must be compared with its origin's random-path probe."""
    return not is_site_root(url)


def probe_url(url: str, token: str | None = None) -> str:
    """A URL on `url`'s origin that no site serves on purpose."""
    token = token or secrets.token_hex(12)
    return f"{origin_of(url)}/lc-probe-{token}/{token[:8]}.html"


NOT_FOUND_PHRASES: tuple[str, ...] = (
    # English
    "page not found", "not found", "page does not exist", "page doesn't exist",
    "no longer available", "no longer exists", "cannot be found", "can't be found",
    "could not be found", "couldn't find", "page missing", "nothing found", "does not exist",
    # German
    "nicht gefunden", "seite existiert nicht", "nicht mehr verfügbar",
    # French
    "page introuvable", "introuvable", "page non trouvée", "n'existe pas", "n’existe pas",
    "page inexistante",
    # Spanish
    "página no encontrada", "no encontrada", "no encontrado", "no se encontró", "no existe",
    # Italian
    "pagina non trovata", "non trovata", "non trovato", "non esiste",
    # Portuguese
    "página não encontrada", "não encontrada", "não encontrado", "não existe",
    # Dutch
    "pagina niet gevonden", "niet gevonden", "bestaat niet",
    # Polish
    "nie znaleziono", "strona nie istnieje",
    # Swedish
    "sidan hittades inte", "hittades inte",
    # Turkish
    "sayfa bulunamadı", "bulunamadı",
    # Czech
    "stránka nenalezena", "nenalezena",
    # Russian
    "страница не найдена", "не найдена", "не найдено",
    # Japanese
    "ページが見つかりません", "見つかりません",
    # Chinese
    "页面不存在", "页面未找到", "找不到", "頁面不存在", "找不到網頁",
)
# "404" alone is too common in live titles ("404 Club", "HTTP 404 explained"); these shapes are
# error pages: "404", "Error 404", "404 error", "404 - Site", "404 | Site", "404: ..."
_TITLE_404 = re.compile(r"^\s*(?:error\s*)?(?:404|410)(?:\s*(?:error|page)?\s*(?:$|[-|:–—]))", re.I)


def not_found_title(title: str | None) -> bool:
    if not title:
        return False
    text = " ".join(title.lower().split())
    return bool(_TITLE_404.search(text)) or any(phrase in text for phrase in NOT_FOUND_PHRASES)


_WORD = re.compile(r"\w+", re.U)


def words_of(text: str) -> frozenset[str]:
    return frozenset(w.lower() for w in _WORD.findall(text))


def _path_words(url: str) -> frozenset[str]:
    parts = urlsplit(url)
    return words_of(f"{parts.path} {parts.query}")


def _similarity(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def _strip_path(title: str | None, words: frozenset[str]) -> str:
    if not title:
        return ""
    return " ".join(w for w in _WORD.findall(title.lower()) if w not in words)


def looks_soft_404(url: str, page: FetchFacts, probe: FetchFacts | None) -> bool:
    """Whether a 2xx answer for `url` is a "not found" page in disguise (module doc)."""
    if not page.ok or is_site_root(url):
        return False
    if not_found_title(page.title):
        return True
    if probe is None or not probe.ok:
        return False
    final = normalize_url(page.final_url or url)
    if final is not None and final != normalize_url(url) and final == normalize_url(probe.final_url or ""):
        return True
    if page.words is None or probe.words is None:
        return False
    page_path, probe_path = _path_words(url), _path_words(probe.final_url or "")
    if _strip_path(page.title, page_path) != _strip_path(probe.title, probe_path):
        return False
    return _similarity(page.words - page_path, probe.words - probe_path) >= SOFT_404_SIMILARITY


def _chain(head: FetchFacts) -> tuple[dict[str, Any], ...]:
    return tuple(head.redirects)


def _failure(url: str, facts: FetchFacts) -> tuple[Verdict, str]:
    """Verdict and kind of a fetch that ended without an HTTP status."""
    reason = facts.error
    if reason is Reason.DNS_ERROR or reason is Reason.DOMAIN_GONE:
        if facts.dns is DnsFinding.DOMAIN_GONE:
            # Only the linked URL's own domain can be re-registered; a chain that ends on a
            # vanished domain means the link is dead, not that its domain is for sale.
            own = registrable_domain(facts.final_url or url) == registrable_domain(url)
            return (Verdict.DOMAIN_EXPIRED if own else Verdict.DEAD), DeadKind.NXDOMAIN
        if facts.dns is DnsFinding.HOST_GONE:
            return Verdict.DEAD, DeadKind.NXDOMAIN
        return Verdict.ERROR, Reason.DNS_ERROR
    if reason is Reason.TIMEOUT:
        if facts.attempts >= 2:
            return Verdict.DEAD, DeadKind.TIMEOUT
        return Verdict.ERROR, Reason.TIMEOUT
    if reason is Reason.TLS_ERROR:
        return Verdict.DEAD, DeadKind.TLS_ERROR
    if reason is Reason.CONNECTION_ERROR:
        if "refused" in facts.detail.lower():
            return Verdict.DEAD, DeadKind.CONNECTION_REFUSED
        return Verdict.ERROR, Reason.CONNECTION_ERROR
    if reason in (Reason.ROBOTS_DISALLOWED, Reason.ROBOTS_UNAVAILABLE):
        return Verdict.UNCHECKED, reason
    if reason in (Reason.BLOCKED, Reason.BLOCKED_ADDRESS):
        return Verdict.BLOCKED, reason
    return Verdict.ERROR, (reason or Reason.CONNECTION_ERROR)


def _by_status(url: str, facts: FetchFacts, probe: FetchFacts | None) -> tuple[Verdict, str]:
    status = facts.status
    assert status is not None
    if status == 404:
        return Verdict.DEAD, DeadKind.NOT_FOUND
    if status == 410:
        return Verdict.DEAD, DeadKind.GONE
    if status in (401, 403, 429):
        return Verdict.BLOCKED, f"http_{status}"
    if status >= 500:
        return Verdict.ERROR, f"http_{status}"
    if 200 <= status < 300 and looks_soft_404(url, facts, probe):
        return Verdict.DEAD, DeadKind.SOFT_404
    if 300 <= status < 400:
        # A 3xx that reached us had no usable Location: the chain ends nowhere.
        return Verdict.ERROR, f"http_{status}"
    return Verdict.ALIVE, f"http_{status}"


def classify(url: str, head: FetchFacts | None, get: FetchFacts | None = None,
             probe: FetchFacts | None = None) -> Classification:
    """The verdict on `url` from its HEAD, its GET (if one was needed) and its origin's probe.

    The GET, when there is one, decides: it is the request browsers and search engines make.
    """
    decisive = get if get is not None else head
    if decisive is None:
        raise ValueError("classify needs at least one fetch")
    if decisive.status is None:
        verdict, kind = _failure(url, decisive)
    else:
        verdict, kind = _by_status(url, decisive, probe)
    error = None
    if decisive.error is not None:
        error = f"{decisive.error.value}: {decisive.detail}" if decisive.detail else decisive.error.value
    elif verdict is Verdict.DEAD and kind == DeadKind.SOFT_404:
        error = f"soft 404: title {decisive.title!r}" if decisive.title else "soft 404"
    return Classification(
        verdict=verdict,
        kind=str(kind),
        status=decisive.status,
        final_url=decisive.final_url,
        redirects=_chain(decisive),
        method=decisive.method,
        attempts=decisive.attempts + (head.attempts if get is not None and head is not None else 0),
        error=error,
    )


def robots_failure_cause(detail: str) -> Reason | None:
    """The network failure behind a robots_unavailable refusal, from its detail text.

    RFC 9309 makes an unreachable robots.txt mean "crawl nothing", so for a host that is down
    the robots.txt fetch is the only request it gets: its failure is the evidence that the
    host is dead (NXDOMAIN, refused, TLS). A robots.txt answering 429/5xx is not: None.
    """
    lowered = detail.lower()
    if "unreachable (" not in lowered:
        return None
    if "cannotresolvehost" in lowered or "dnslookup" in lowered:
        return Reason.DNS_ERROR
    if "refused" in lowered:
        return Reason.CONNECTION_ERROR
    if "ssl" in lowered or "tls" in lowered or "certificate" in lowered:
        return Reason.TLS_ERROR
    if "timeout" in lowered or "timed out" in lowered:
        return Reason.TIMEOUT
    return None


def dns_finding(host: str, resolve: Any = None) -> DnsFinding:
    """Look the host (and, if it does not exist, its registrable domain) up directly.

    Scrapy reports every resolution failure alike ("no results for hostname lookup"), but a
    name that does not exist (EAI_NONAME: NXDOMAIN) and a resolver that did not answer
    (EAI_AGAIN, EAI_FAIL) are worlds apart for a prospect. Blocking: call it in a thread.
    A registrable domain counts as existing if it or its www. host resolves.
    """
    import socket

    resolve = resolve or socket.getaddrinfo

    def exists(name: str) -> bool | None:
        try:
            resolve(name, None)
        except socket.gaierror as exc:
            if exc.errno == socket.EAI_NONAME or exc.errno == getattr(socket, "EAI_NODATA", None):
                return False
            return None
        except (UnicodeError, OSError):
            return None
        return True

    host = host.strip("[]")
    found = exists(host)
    if found is not False:
        return DnsFinding.TEMPORARY
    domain = registrable_domain(host)
    if not domain or domain == host:
        return DnsFinding.DOMAIN_GONE
    apex = exists(domain)
    if apex is None:
        return DnsFinding.TEMPORARY
    if apex:
        return DnsFinding.HOST_GONE
    www = exists(f"www.{domain}")
    if www is None:
        return DnsFinding.TEMPORARY
    return DnsFinding.HOST_GONE if www else DnsFinding.DOMAIN_GONE


def page_fingerprint(html: bytes | str, content_type: str = "") -> tuple[str, frozenset[str]]:
    """Title and visible-text words of a (possibly truncated) HTML body, for soft-404 tests."""
    import lxml.html

    from linkcrawler.charset import decode_html

    text = html if isinstance(html, str) else decode_html(html, content_type)[0]
    text = text.replace("\x00", "")
    if not text.strip():
        return "", frozenset()
    try:
        root = lxml.html.document_fromstring(text)
    except (ValueError, lxml.etree.ParserError):
        return "", words_of(re.sub(r"<[^>]*>", " ", text))
    for bad in root.xpath("//script|//style|//template|//noscript"):
        bad.drop_tree()
    titles = root.xpath("//title")
    title = " ".join(titles[0].text_content().split()) if titles else ""
    body = root.find("body")
    return title, words_of((body if body is not None else root).text_content())


# --- which links are outbound ------------------------------------------------------------------

def outbound_url(page_url: str, link_url: str | None) -> str | None:
    """The URL to check if `link_url` leaves the page's site, else None."""
    if not link_url:
        return None
    norm = normalize_url(link_url)
    if norm is None:
        return None
    if registrable_domain(host_of(norm)) == registrable_domain(host_of(page_url)):
        return None
    return norm


# Links to these are files, not resource pages: --same-site-depth does not fetch them.
_NOT_PAGES = (".pdf", ".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".zip", ".gz", ".mp3", ".mp4",
              ".avi", ".mov", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".exe", ".dmg", ".css", ".js")


def internal_url(site_domains: frozenset[str] | set[str], page_url: str, link_url: str | None) -> str | None:
    """The page to follow for --same-site-depth if `link_url` stays on a seed site, else None."""
    if not link_url:
        return None
    norm = normalize_url(link_url)
    if norm is None or registrable_domain(host_of(norm)) != registrable_domain(host_of(page_url)):
        return None
    if urlsplit(norm).path.lower().endswith(_NOT_PAGES):
        return None
    return norm if registrable_domain(host_of(norm)) in site_domains else None


# --- seeds -------------------------------------------------------------------------------------

def read_seeds(arguments: Sequence[str]) -> list[str]:
    """Seed URLs from command-line arguments: each a URL, or a file of URLs (one a line,
    blank lines and lines starting with # ignored). Normalised, de-duplicated, in order.
    A bad line refuses the whole input, naming each bad line (nothing is crawled)."""
    seeds: list[str] = []
    seen: set[str] = set()
    bad: list[str] = []

    def add(text: str, where: str) -> None:
        norm = normalize_url(text.strip())
        if norm is None:
            bad.append(f"{where}: not an http(s) URL: {text.strip()[:200]!r}")
        elif norm not in seen:
            seen.add(norm)
            seeds.append(norm)

    for arg in arguments:
        if arg.lower().startswith(("http://", "https://")):
            add(arg, "argument")
            continue
        path = Path(arg)
        if not path.is_file():
            raise UsageError(f"{arg!r} is neither an http(s) URL nor a readable file of URLs")
        data = path.read_bytes()
        text = data.decode("utf-8-sig", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if line and not line.startswith("#"):
                add(line, f"{arg} line {number}")
    if bad:
        raise UsageError("bad seeds, nothing crawled:\n  " + "\n  ".join(bad))
    if not seeds:
        raise UsageError("no seed URLs given")
    return seeds


# --- storage -----------------------------------------------------------------------------------

def page_row(run_id: int, url: str, *, depth: int, status: int | None, final_url: str | None,
             title: str | None, outbound: int, error: str | None) -> dict[str, Any]:
    return {"run_id": run_id, "url": url, "url_key": url_hash(url), "depth": depth, "http_status": status,
            "final_url": final_url, "title": title, "outbound": outbound, "error": error}


def link_row(run_id: int, page_url: str, ordinal: int, url: str, link: Any) -> dict[str, Any]:
    """A ProspectLink row from an extraction Link (duck-typed: any object with its fields)."""
    return {
        "run_id": run_id, "page_url": page_url, "page_key": url_hash(page_url),
        "page_domain": registrable_domain(host_of(page_url)), "ordinal": ordinal, "url": url,
        "url_key": url_hash(url), "href": link.href, "anchor_text": link.anchor_text,
        "img_alt": link.img_alt, "rel": " ".join(link.rel), "nofollow": bool(link.nofollow),
        "position": str(link.position), "hidden": bool(link.hidden),
        "context_before": link.context_before, "context_after": link.context_after, "path": link.path,
    }


def check_row(run_id: int, url: str, result: Classification) -> dict[str, Any]:
    return {
        "run_id": run_id, "url": url, "url_key": url_hash(url), "verdict": result.verdict.value,
        "kind": result.kind, "http_status": result.status, "final_url": result.final_url,
        "redirects": [dict(h) for h in result.redirects], "method": result.method,
        "attempts": result.attempts, "error": result.error,
    }


@dataclass(slots=True)
class RowBuffer:
    """Rows waiting for the next batched write (the spider flushes them)."""

    pages: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.pages) + len(self.links) + len(self.checks)

    def take(self) -> RowBuffer:
        taken = RowBuffer(self.pages, self.links, self.checks)
        self.pages, self.links, self.checks = [], [], []
        return taken


def save_rows(session: Session, rows: RowBuffer) -> None:
    """Write buffered rows; re-delivered rows are ignored (unique per run)."""
    insert_ignoring_conflicts(session, ProspectPage, rows.pages)
    insert_ignoring_conflicts(session, ProspectLink, rows.links)
    insert_ignoring_conflicts(session, ProspectCheck, rows.checks)


@dataclass(frozen=True, slots=True)
class Referrer:
    page_url: str
    page_domain: str
    anchor_text: str
    img_alt: str
    rel: tuple[str, ...]
    nofollow: bool
    position: str
    hidden: bool
    context_before: str
    context_after: str
    path: str


@dataclass(frozen=True, slots=True)
class Prospect:
    """A dead outbound URL with everything that links to it, ranked."""

    rank: int
    url: str
    domain: str
    verdict: Verdict
    kind: str
    http_status: int | None
    final_url: str | None
    redirects: tuple[dict[str, Any], ...]
    error: str | None
    referring_pages: int
    referring_domains: int
    referrers: tuple[Referrer, ...]

    def as_json(self, run_id: int) -> dict[str, Any]:
        return {
            "run_id": run_id, "rank": self.rank, "url": self.url, "domain": self.domain,
            "verdict": self.verdict.value, "kind": self.kind, "http_status": self.http_status,
            "final_url": self.final_url, "redirects": [dict(h) for h in self.redirects], "error": self.error,
            "referring_pages": self.referring_pages, "referring_domains": self.referring_domains,
            "links": [
                {"page_url": r.page_url, "anchor_text": r.anchor_text, "img_alt": r.img_alt, "rel": list(r.rel),
                 "nofollow": r.nofollow, "position": r.position, "hidden": r.hidden,
                 "context_before": r.context_before, "context_after": r.context_after, "path": r.path}
                for r in self.referrers
            ],
        }


def rank_key(verdict: Verdict, referring_domains: int, referring_pages: int, url: str) -> tuple[Any, ...]:
    """Expired domains first (they can be bought), then by referring domains, then pages."""
    return (VERDICT_ORDER[verdict], -referring_domains, -referring_pages, url)


def ranked_prospects(session: Session, run_id: int, verdicts: Iterable[Verdict] | None = None) -> list[Prospect]:
    """Dead URLs of a run (or those with `verdicts`), ranked, each with its referring links."""
    wanted = [v.value for v in (verdicts or [v for v in Verdict if v.is_dead])]
    checks = {c.url_key: c for c in session.scalars(
        select(ProspectCheck).where(ProspectCheck.run_id == run_id, ProspectCheck.verdict.in_(wanted)))}
    referrers: dict[str, list[Referrer]] = defaultdict(list)
    if checks:
        query = (select(ProspectLink).where(ProspectLink.run_id == run_id)
                 .order_by(ProspectLink.page_url, ProspectLink.ordinal))
        # One pass over the run's links: dead URLs are a small share, so filtering in Python
        # beats an IN list of thousands of keys.
        for link in session.scalars(query).yield_per(1000):
            if link.url_key in checks:
                referrers[link.url_key].append(Referrer(
                    link.page_url, link.page_domain, link.anchor_text, link.img_alt,
                    tuple(link.rel.split()), link.nofollow, link.position, link.hidden,
                    link.context_before, link.context_after, link.path))
    unranked = []
    for key, check in checks.items():
        refs = referrers.get(key, [])
        pages = len({r.page_url for r in refs})
        domains = len({r.page_domain for r in refs})
        unranked.append((rank_key(Verdict(check.verdict), domains, pages, check.url), check, refs, pages, domains))
    unranked.sort(key=lambda item: item[0])
    return [
        Prospect(rank=i, url=c.url, domain=registrable_domain(host_of(c.url)), verdict=Verdict(c.verdict),
                 kind=c.kind, http_status=c.http_status, final_url=c.final_url,
                 redirects=tuple(c.redirects or ()), error=c.error, referring_pages=pages,
                 referring_domains=domains, referrers=tuple(refs))
        for i, (_key, c, refs, pages, domains) in enumerate(unranked, 1)
    ]


@dataclass(frozen=True, slots=True)
class RunCounts:
    pages: int
    pages_failed: int
    links: int
    checks: dict[tuple[str, str], int]  # (verdict, kind) -> distinct URLs


def run_counts(session: Session, run_id: int) -> RunCounts:
    pages = session.scalar(select(func.count()).where(ProspectPage.run_id == run_id)) or 0
    failed = session.scalar(select(func.count()).where(ProspectPage.run_id == run_id,
                                                       ProspectPage.error.is_not(None))) or 0
    links = session.scalar(select(func.count()).where(ProspectLink.run_id == run_id)) or 0
    rows = session.execute(select(ProspectCheck.verdict, ProspectCheck.kind, func.count())
                           .where(ProspectCheck.run_id == run_id)
                           .group_by(ProspectCheck.verdict, ProspectCheck.kind))
    return RunCounts(pages, failed, links, {(v, k): n for v, k, n in rows})


def latest_prospect_run(session: Session) -> Run | None:
    return session.scalars(select(Run).where(Run.kind == RUN_KIND).order_by(Run.id.desc()).limit(1)).first()


def prospect_run(session: Session, run_id: int | None) -> Run:
    """The run `prospects --run` means (the newest prospect run by default)."""
    run = latest_prospect_run(session) if run_id is None else session.get(Run, run_id)
    if run is None or run.kind != RUN_KIND:
        raise UsageError("there is no prospect run" + ("" if run_id is None else f" {run_id}")
                         + "; start one with `linkcrawler prospect SEEDS`")
    return run


def redirect_text(redirects: Iterable[dict[str, Any]], final_url: str | None) -> str:
    """A redirect chain on one line: "301 http://a/ -> 404 http://b/"-style, hops then the end."""
    hops = [f"{h.get('status')} {h.get('url')}" for h in redirects]
    if hops and final_url:
        hops.append(final_url)
    return " -> ".join(hops)


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
