"""Deciding one backlink's result from what was fetched: a pure function, no Scrapy, no DB.

The spider gathers facts (the referring page's fetch, its parsed links, the checks of the link
targets) and this module turns them into exactly one `VerifiedResult` per backlink with the
status/reason, flags and link list of DESIGN §5.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from linkcrawler.enums import ExpectedRel, MatchKind, Position, Reason, Status, TargetKind
from linkcrawler.extraction import Link, PageInfo, ParsedPage
from linkcrawler.urls import Target, equivalence_key, is_found, match_link, registrable_domain

_MATCH_RANK = {MatchKind.EXACT: 0, MatchKind.EQUIVALENT: 0, MatchKind.DOMAIN: 1}


@dataclass(frozen=True, slots=True)
class BacklinkSpec:
    """What one backlink expects, as the crawl needs it."""

    id: int
    source_url: str
    target: Target
    expected_anchor: str | None = None
    expected_rel: ExpectedRel | None = None
    expires: dt.date | None = None
    was_live: bool = False  # its latest conclusive result in an earlier run was live


@dataclass(frozen=True, slots=True)
class PageJob:
    """One distinct referring page to fetch, and every backlink that points at it."""

    page_id: int
    url: str
    backlinks: tuple[BacklinkSpec, ...]


@dataclass(frozen=True, slots=True)
class TargetCheck:
    """The outcome of fetching a link's target URL once in the run."""

    status: int | None
    final_url: str | None
    redirects: tuple[dict[str, Any], ...] = ()
    error: str | None = None


@dataclass(frozen=True, slots=True)
class PageFetch:
    """How fetching the referring page went (the facts common to all its backlinks)."""

    http_status: int | None
    final_url: str | None
    redirects: tuple[dict[str, Any], ...] = ()
    attempts: int = 1
    googlebot_allowed: bool | None = None


@dataclass(frozen=True, slots=True)
class LinkMatch:
    link: Link
    match: MatchKind


@dataclass(frozen=True, slots=True)
class VerifiedResult:
    """One result per backlink per run (DESIGN §5, without run_id/checked_at)."""

    backlink_id: int
    status: Status
    reason: Reason
    follow: bool | None = None
    indexable: bool | None = None
    googlebot_allowed: bool | None = None
    http_status: int | None = None
    final_url: str | None = None
    redirects: tuple[dict[str, Any], ...] = ()
    links: tuple[dict[str, Any], ...] = ()
    page: dict[str, Any] | None = None
    unmet: tuple[str, ...] = ()
    error: str | None = None
    attempts: int = 1


def passes_value(link: Link, info: PageInfo) -> bool:
    return not (link.nofollow or link.sponsored or link.ugc or info.page_nofollow)


# scheme://[userinfo@]host[:port] of an http(s) URL whose host is a plain lower-case name.
_PLAIN_HOST = re.compile(r"https?://(?:[^/?#@\[\]]*@)?([a-z0-9.-]+)(?::[0-9]*)?(?:[/?#]|$)")
_PLAIN_NAME = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*")
_HEX_LABEL = re.compile(r"0x[0-9a-f]*")


def _is_name(host: str) -> bool:
    """A host that is a DNS name, not one of the numeric forms URL parsers read as IPv4."""
    last = host.rpartition(".")[2]
    return (_PLAIN_NAME.fullmatch(host) is not None and not last.isdigit()
            and _HEX_LABEL.fullmatch(last) is None)


@functools.lru_cache(maxsize=4096)
def _domain_filter(target: Target) -> str | None:
    """The registrable domain every matching link's host ends with, or None (no shortcut).

    Any match (exact, equivalent or domain) implies the link's host is the target's
    registrable domain or below it, so a link whose plain host is not can be skipped
    without normalising its URL; anything unusual goes through the full matcher.
    """
    try:
        domain = target.norm if target.kind is TargetKind.DOMAIN else registrable_domain(target.norm)
    except Exception:  # noqa: BLE001 - no shortcut then
        return None
    if not domain or not _is_name(domain):
        return None
    if target.kind is not TargetKind.DOMAIN:
        m = _PLAIN_HOST.match(target.norm)
        host = m.group(1).rstrip(".") if m else ""
        if not (host == domain or host.endswith("." + domain)):
            return None
    return domain


def _outside(url: str | None, domain: str) -> bool:
    """True only when `url` certainly cannot match a target of registrable domain `domain`."""
    if not url:
        return False  # the matcher answers None itself
    m = _PLAIN_HOST.match(url)
    if m is None:
        return False
    host = m.group(1).rstrip(".")
    if not _is_name(host):
        return False
    return not (host == domain or host.endswith("." + domain))


def may_link_to(targets: Iterable[Target]) -> Callable[[str | None], bool]:
    """A predicate over link URLs: False only for links that cannot match any of `targets`
    (so their position need not be classified); cheap, no URL normalisation."""
    domains = [_domain_filter(t) for t in targets]
    if not domains or any(d is None for d in domains):
        return lambda url: url is not None

    def predicate(url: str | None) -> bool:
        return url is not None and any(not _outside(url, d) for d in domains)  # type: ignore[arg-type]

    return predicate


def hosts_outside(targets: Iterable[Target]) -> Callable[[str], bool] | None:
    """A predicate over plain host names, true only when no link to that host can match any
    of `targets` (may_link_to's rule, for parse_page's skip_hosts); None: no shortcut."""
    domains = [_domain_filter(t) for t in targets]
    if not domains or any(d is None for d in domains):
        return None

    def outside(host: str) -> bool:
        return _is_name(host) and not any(host == d or host.endswith("." + d) for d in domains)  # type: ignore[operator]

    return outside


def matching_links(target: Target, links: Iterable[Link], info: PageInfo) -> list[LinkMatch]:
    """Every link to the target's registrable domain, best first (DESIGN §5 order)."""
    found: list[tuple[tuple[int, int, int, int, int], LinkMatch]] = []
    domain = _domain_filter(target)
    for index, link in enumerate(links):
        if domain is not None and _outside(link.url, domain):
            continue
        kind = match_link(target, link.url)
        if kind is None:
            continue
        key = (
            0 if is_found(target, kind) else 1,
            _MATCH_RANK[kind],
            0 if passes_value(link, info) else 1,
            0 if link.position is Position.BODY else 1,
            index,
        )
        found.append((key, LinkMatch(link, kind)))
    found.sort(key=lambda pair: pair[0])
    return [match for _, match in found]


def target_urls_to_check(matches: Iterable[LinkMatch], limit: int) -> list[str]:
    """Distinct link URLs whose target is checked, best links first, at most `limit`."""
    urls: list[str] = []
    for m in matches:
        if m.link.url and m.link.url not in urls:
            urls.append(m.link.url)
            if len(urls) >= limit:
                break
    return urls


def page_facts(info: PageInfo) -> dict[str, Any]:
    return {
        "title": info.title,
        "meta_robots": list(info.meta_robots),
        "x_robots_tag": list(info.x_robots_tag),
        "noindex": info.noindex,
        "page_nofollow": info.page_nofollow,
        "canonical": info.canonical,
        "content_type": info.content_type,
        "bytes": info.bytes,
    }


def is_indexable(info: PageInfo, final_url: str | None) -> bool:
    if info.noindex:
        return False
    if not info.canonical or not final_url:
        return True
    return equivalence_key(info.canonical) == equivalence_key(final_url)


def link_record(m: LinkMatch, check: TargetCheck | None) -> dict[str, Any]:
    link = m.link
    return {
        "href": link.href,
        "url": link.url,
        "anchor_text": link.anchor_text,
        "img_alt": link.img_alt,
        "rel": list(link.rel),
        "nofollow": link.nofollow,
        "sponsored": link.sponsored,
        "ugc": link.ugc,
        "position": link.position.value,
        "hidden": link.hidden,
        "context_before": link.context_before,
        "context_after": link.context_after,
        "path": link.path,
        "match": m.match.value,
        "target_status": check.status if check else None,
        "target_final_url": check.final_url if check else None,
        "target_redirects": list(check.redirects) if check else [],
    }


def _squash(text: str) -> str:
    return " ".join(text.split()).casefold()


def unmet_expectations(
    spec: BacklinkSpec, best: LinkMatch | None, info: PageInfo | None, today: dt.date
) -> tuple[str, ...]:
    """Expectations from the import that the live page does not meet, in a fixed order."""
    unmet: list[str] = []
    if best is not None and info is not None:
        if spec.expected_anchor is not None:
            wanted = _squash(spec.expected_anchor)
            if wanted not in (_squash(best.link.anchor_text), _squash(best.link.img_alt)):
                unmet.append("anchor")
        rel = spec.expected_rel
        if rel is not None and rel is not ExpectedRel.ANY:
            ok = {
                ExpectedRel.FOLLOW: passes_value(best.link, info),
                ExpectedRel.NOFOLLOW: best.link.nofollow or info.page_nofollow,
                ExpectedRel.SPONSORED: best.link.sponsored,
                ExpectedRel.UGC: best.link.ugc,
            }[rel]
            if not ok:
                unmet.append("rel")
    if spec.expires is not None and today > spec.expires:
        unmet.append("expired")
    return tuple(unmet)


def assess_page(
    spec: BacklinkSpec,
    fetch: PageFetch,
    parsed: ParsedPage,
    matches: list[LinkMatch],
    checks: Mapping[str, TargetCheck],
    today: dt.date,
) -> VerifiedResult:
    """The result for a backlink whose referring page was fetched and parsed (2xx HTML)."""
    info = parsed.info
    best = matches[0] if matches else None
    if best is not None and is_found(spec.target, best.match):
        reason = Reason.FOUND
    elif best is not None:
        reason = Reason.TARGET_CHANGED
    elif fetch.redirects and _moved_elsewhere(spec.source_url, fetch.final_url):
        reason = Reason.PAGE_REDIRECTED
    else:
        reason = Reason.LINK_REMOVED
    return VerifiedResult(
        backlink_id=spec.id,
        status=reason.status,
        reason=reason,
        follow=passes_value(best.link, info) if best else None,
        indexable=is_indexable(info, fetch.final_url),
        googlebot_allowed=fetch.googlebot_allowed,
        http_status=fetch.http_status,
        final_url=fetch.final_url,
        redirects=fetch.redirects,
        links=tuple(link_record(m, checks.get(m.link.url or "")) for m in matches),
        page=page_facts(info),
        unmet=unmet_expectations(spec, best, info, today),
        error=None if reason.status is Status.LIVE else _lost_detail(reason, fetch),
        attempts=fetch.attempts,
    )


def _moved_elsewhere(source_url: str, final_url: str | None) -> bool:
    if not final_url:
        return False
    return equivalence_key(source_url) != equivalence_key(final_url)


def _lost_detail(reason: Reason, fetch: PageFetch) -> str:
    if reason is Reason.PAGE_REDIRECTED:
        return f"the page redirects to {fetch.final_url}, which has no link to the target"
    return "the page was fetched and has no link to the target's domain"


def failed_result(
    spec: BacklinkSpec,
    reason: Reason,
    detail: str,
    fetch: PageFetch,
    today: dt.date,
    page: dict[str, Any] | None = None,
) -> VerifiedResult:
    """The result for a backlink whose page could not be verified or is gone."""
    return VerifiedResult(
        backlink_id=spec.id,
        status=reason.status,
        reason=reason,
        googlebot_allowed=fetch.googlebot_allowed,
        http_status=fetch.http_status,
        final_url=fetch.final_url,
        redirects=fetch.redirects,
        page=page,
        unmet=unmet_expectations(spec, None, None, today),
        error=detail,
        attempts=fetch.attempts,
    )


# Bot-protection interstitials: the site refused us even when the status says 200 or 503, so
# the page must not be read as "link removed" or "page error" (that would be a false lost).
_CHALLENGE_MARKERS = (
    b"/cdn-cgi/challenge-platform/",
    b"<title>just a moment...</title>",
    b"<title>attention required! | cloudflare</title>",
    b"_incapsula_resource",
    b"geo.captcha-delivery.com",
    b"<title>pardon our interruption</title>",
    b"px-captcha",
    b"<title>access denied</title>",
)


def is_bot_challenge(status: int, headers: Mapping[bytes, bytes], body: bytes) -> bool:
    """True when the response is a bot challenge or block page rather than the page itself."""
    return challenge_in_headers(headers) or challenge_in_body(status, body)


def challenge_in_headers(headers: Mapping[bytes, bytes]) -> bool:
    """The response says it is a challenge (`headers` with lower-case names)."""
    return headers.get(b"cf-mitigated", b"").lower() == b"challenge"


def challenge_in_body(status: int, body: bytes) -> bool:
    """The start of the body is a known challenge or block page."""
    if status not in (200, 403, 429, 503) or len(body) > 256 * 1024:
        return False
    head = body[:16384].lower()
    return any(marker in head for marker in _CHALLENGE_MARKERS)


def reason_for_status(status: int) -> Reason | None:
    """The reason an HTTP status ends a page fetch with, or None for a 2xx page to parse."""
    if 200 <= status < 300:
        return None
    if status == 404:
        return Reason.PAGE_NOT_FOUND
    if status == 410:
        return Reason.PAGE_GONE
    if status in (401, 403, 429):
        return Reason.BLOCKED
    return Reason.PAGE_ERROR
