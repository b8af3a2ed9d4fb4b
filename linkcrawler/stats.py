"""The figures link builders watch, for one run and over time.

Shares of rel, position and anchor classes are of the run's *live* results (links that exist);
status counts are of all results. Referring domains are registrable domains of referring pages
(linkcrawler.urls.registrable_domain, the same rule as per-site pacing).

Anchor classes, first match wins: ``image`` (no text, an image with alt text), ``empty``,
``naked_url`` (the anchor is a URL or a host name), ``branded`` (contains a --brand term as
whole words), ``generic`` ("click here", "read more", "hier klicken", "en savoir plus"... in
English, German, French, Spanish, Italian, Dutch and Portuguese), ``exact`` (the anchor's words
are the target's keywords: the words of its path, or of its domain name when the path has
none), ``partial`` (shares a keyword with the target's path or domain name), ``other``.
"""

from __future__ import annotations

import enum
import functools
import re
import urllib.parse
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, case, func, select, type_coerce
from sqlalchemy.orm import Session

from linkcrawler.changes import UNKNOWN, ChangeKind, advance, diff_states
from linkcrawler.db import Backlink, Page, Result, Run
from linkcrawler.enums import Position, RunState, Status
from linkcrawler.errors import UsageError
from linkcrawler.urls import registrable_domain


class AnchorClass(enum.StrEnum):
    BRANDED = "branded"
    NAKED_URL = "naked_url"
    GENERIC = "generic"
    EXACT = "exact"
    PARTIAL = "partial"
    IMAGE = "image"
    EMPTY = "empty"
    OTHER = "other"


REL_KINDS = ("follow", "nofollow", "sponsored", "ugc")

_GENERIC = """
click here|here|click|read more|more|learn more|find out more|see more|more info|more information|
details|continue reading|continue|this|this site|this website|this page|this article|this post|
link|website|site|web site|homepage|home page|visit|visit site|visit website|visit us|go|go to|
source|via|check it out|download|official site|official website|full story|
hier|hier klicken|klicken sie hier|klick hier|mehr|mehr erfahren|mehr lesen|mehr dazu|weiterlesen|
mehr informationen|zur website|zur webseite|webseite|quelle|link|jetzt ansehen|
ici|cliquez ici|cliquer ici|clique ici|en savoir plus|lire la suite|lire plus|plus|voir plus|
site web|site internet|source|lien|ce site|cet article|
aquí|aqui|haga clic aquí|haz clic aquí|clic aquí|leer más|más|más información|ver más|sitio web|
fuente|enlace|este sitio|
qui|clicca qui|leggi di più|scopri di più|di più|sito|sito web|fonte|
klik hier|lees meer|meer|meer informatie|bron|deze website|
clique aqui|saiba mais|leia mais|mais|veja mais|fonte
"""
GENERIC_ANCHORS = frozenset(p.strip() for p in _GENERIC.replace("\n", "").split("|") if p.strip())

_STOPWORDS = frozenset("""
a an the and or of for to in on at with by from your our my is are
der die das und oder für mit von zu im den dem ein eine
le la les de des du et ou pour en au aux un une sur
el los las del y para con por un una
il lo gli di e per con da
het een en van voor met
o os as do da dos das em um uma
www index html htm php asp aspx jsp
""".split())

_WORD = re.compile(r"[^\W_]+")
_NAKED = re.compile(
    r"^(?:https?://|www\.)\S+$|^(?:[^\W_](?:[\w-]*[^\W_])?\.)+[a-z]{2,}(?::\d+)?(?:/\S*)?$", re.I)


def words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


@dataclass(frozen=True, slots=True)
class TargetKeywords:
    exact: frozenset[str]  # path words, or domain-name words when the path has none
    any: frozenset[str]  # path and domain-name words


@functools.lru_cache(maxsize=4096)
def target_keywords(target: str) -> TargetKeywords:
    """Keywords of an imported target (URL, prefix ending in *, or domain)."""
    text = target.strip().rstrip("*")
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urllib.parse.urlsplit(text)
        host = parts.hostname or ""
    except ValueError:
        return TargetKeywords(frozenset(), frozenset())
    domain = registrable_domain(host) if host else ""
    name = domain.split(".")[0] if domain and not domain[:1].isdigit() and not domain.startswith("[") else ""
    host_words = [w for w in words(name) if w not in _STOPWORDS]
    path = urllib.parse.unquote(parts.path)
    path_words = [w for w in words(path) if w not in _STOPWORDS and not w.isdigit() and len(w) > 1]
    exact = frozenset(path_words or host_words)
    return TargetKeywords(exact, frozenset(path_words) | frozenset(host_words))


def classify_anchor(anchor_text: str | None, img_alt: str | None, target: str,
                    brands: Sequence[str] = ()) -> AnchorClass:
    text = " ".join((anchor_text or "").split())
    if not text:
        return AnchorClass.IMAGE if (img_alt or "").strip() else AnchorClass.EMPTY
    if _NAKED.match(text):
        return AnchorClass.NAKED_URL
    tokens = words(text)
    joined = f" {' '.join(tokens)} "
    for brand in brands:
        brand_tokens = words(brand)
        if brand_tokens and f" {' '.join(brand_tokens)} " in joined:
            return AnchorClass.BRANDED
    if " ".join(tokens) in GENERIC_ANCHORS:
        return AnchorClass.GENERIC
    keywords = target_keywords(target)
    meaningful = {t for t in tokens if t not in _STOPWORDS}
    if keywords.exact and meaningful == keywords.exact:
        return AnchorClass.EXACT
    if meaningful & keywords.any:
        return AnchorClass.PARTIAL
    return AnchorClass.OTHER


# --- the figures --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RunPoint:
    """One run in the series: status counts and the change events since the run before."""

    run_id: int
    started_at: Any
    state: str
    live: int
    lost: int
    unverified: int
    new: int
    lost_events: int
    recovered: int


@dataclass(frozen=True, slots=True)
class RunStats:
    run_id: int
    state: str
    started_at: Any
    finished_at: Any
    total: int
    by_status: dict[str, int]
    by_reason: dict[str, int]
    referring_domains: int  # with at least one live link
    referring_domains_all: int  # of all checked referring pages
    top_domains: tuple[tuple[str, int], ...]  # by live links
    rel: dict[str, int]  # of live links: follow (passes value) and each rel token
    positions: dict[str, int]
    anchors: dict[str, int]
    brands: tuple[str, ...]
    over_time: tuple[RunPoint, ...]

    @property
    def live(self) -> int:
        return self.by_status.get(Status.LIVE.value, 0)

    def as_dict(self) -> dict[str, Any]:
        live = self.live
        return {
            "run": {"id": self.run_id, "state": self.state, "started_at": _iso(self.started_at),
                    "finished_at": _iso(self.finished_at)},
            "total": self.total,
            "status": self.by_status,
            "reasons": self.by_reason,
            "referring_domains": {"live": self.referring_domains, "all": self.referring_domains_all,
                                  "top": [{"domain": d, "live_links": n} for d, n in self.top_domains]},
            "rel": _shares(self.rel, live),
            "positions": _shares(self.positions, live),
            "anchors": _shares(self.anchors, live),
            "brands": list(self.brands),
            "over_time": [{"run_id": p.run_id, "started_at": _iso(p.started_at), "state": p.state,
                           "live": p.live, "lost": p.lost, "unverified": p.unverified, "new": p.new,
                           "lost_events": p.lost_events, "recovered": p.recovered}
                          for p in self.over_time],
        }


def default_stats_run(session: Session) -> int:
    """The latest completed verify run, else the latest run with results."""
    run_id = session.scalar(select(func.max(Run.id)).where(
        Run.kind == "verify", Run.state == RunState.COMPLETED.value))
    if run_id is None:
        run_id = session.scalar(select(func.max(Result.run_id)))
    if run_id is None:
        raise UsageError("there are no runs yet; run `linkcrawler verify` first")
    return run_id


def run_stats(session: Session, run_id: int, *, brands: Sequence[str] = (), confirm: int = 1,
              top: int = 10) -> RunStats:
    run = session.get(Run, run_id)
    if run is None or run.kind != "verify":
        raise UsageError(f"there is no verify run {run_id}")
    by_status = {s.value: 0 for s in Status}
    by_reason: Counter[str] = Counter()
    all_domains: set[str] = set()
    live_domains: Counter[str] = Counter()
    rel: Counter[str] = Counter({k: 0 for k in REL_KINDS})
    positions: Counter[str] = Counter({p.value: 0 for p in Position})
    anchors: Counter[str] = Counter({a.value: 0 for a in AnchorClass})
    empty_anchor = func.coalesce(Result.anchor_text, "") == ""
    # links JSON only where the anchor is empty (image links): it is most of a row's bytes
    links_if_empty = type_coerce(case((empty_anchor, Result.links), else_=None), JSON)
    query = (
        select(Result.status, Result.reason, Page.url, Result.follow, Result.rel, Result.position,
               Result.anchor_text, links_if_empty, Backlink.target)
        .join(Backlink, Backlink.id == Result.backlink_id)
        .join(Page, Page.id == Backlink.page_id)
        .where(Result.run_id == run_id)
    )
    rows = session.connection().execution_options(stream_results=True, yield_per=5000).execute(query)
    for status, reason, page_url, follow, rel_text, position, anchor, links, target in rows:
        by_status[status] = by_status.get(status, 0) + 1
        by_reason[reason] += 1
        domain = registrable_domain(page_url) or page_url
        all_domains.add(domain)
        if status != Status.LIVE.value:
            continue
        live_domains[domain] += 1
        if follow:
            rel["follow"] += 1
        tokens = set((rel_text or "").lower().split())
        for token in ("nofollow", "sponsored", "ugc"):
            if token in tokens:
                rel[token] += 1
        if position:
            positions[position] += 1
        img_alt = links[0].get("img_alt") if links and isinstance(links[0], dict) else None
        anchors[classify_anchor(anchor, img_alt, target, brands).value] += 1
    return RunStats(
        run_id=run.id, state=run.state, started_at=run.started_at, finished_at=run.finished_at,
        total=sum(by_status.values()), by_status=by_status, by_reason=dict(by_reason.most_common()),
        referring_domains=len(live_domains), referring_domains_all=len(all_domains),
        top_domains=tuple(sorted(live_domains.items(), key=lambda kv: (-kv[1], kv[0]))[:top]),
        rel=dict(rel), positions=dict(positions), anchors=dict(anchors), brands=tuple(brands),
        over_time=tuple(run_series(session, up_to=run_id, confirm=confirm)),
    )


def run_series(session: Session, *, up_to: int, confirm: int = 1) -> list[RunPoint]:
    """Per verify run up to `up_to`: status counts and new/lost/recovered events, from one
    replay of all results in (backlink, run) order with the same state machine as `changes`."""
    runs = session.execute(
        select(Run.id, Run.started_at, Run.state)
        .where(Run.kind == "verify", Run.id <= up_to).order_by(Run.id)
    ).all()
    counts: dict[int, Counter[str]] = {r[0]: Counter() for r in runs}
    for run_id, status, n in session.execute(
        select(Result.run_id, Result.status, func.count())
        .where(Result.run_id <= up_to).group_by(Result.run_id, Result.status)
    ):
        counts.setdefault(run_id, Counter())[status] = n
    events: dict[int, Counter[str]] = {r[0]: Counter() for r in runs}
    rows = session.connection().execution_options(stream_results=True, yield_per=10000).execute(
        select(Result.backlink_id, Result.run_id, Result.status, Result.reason)
        .where(Result.run_id <= up_to)
        .order_by(Result.backlink_id, Result.run_id)
    )
    current, state = None, UNKNOWN
    for backlink_id, run_id, status, reason in rows:
        if backlink_id != current:
            current, state = backlink_id, UNKNOWN
        new_state = advance(state, (status, reason), confirm)
        # (status, reason) snapshots: field changes compare equal and are not counted here
        for kind, *_ in diff_states(state, new_state):
            events.setdefault(run_id, Counter())[kind.value] += 1
        state = new_state
    return [
        RunPoint(run_id, started_at, run_state,
                 counts[run_id][Status.LIVE.value], counts[run_id][Status.LOST.value],
                 counts[run_id][Status.UNVERIFIED.value],
                 events[run_id][ChangeKind.NEW.value], events[run_id][ChangeKind.LOST.value],
                 events[run_id][ChangeKind.RECOVERED.value])
        for run_id, started_at, run_state in runs
        if counts.get(run_id)
    ]


def _shares(counts: dict[str, int], live: int) -> dict[str, dict[str, float | int]]:
    return {k: {"count": n, "share": round(n / live, 4) if live else 0.0} for k, n in counts.items()}


def _iso(value: Any) -> str | None:
    return value.isoformat() + "Z" if value else None
