"""The formats `linkcrawler import` reads, as alias tables: header text -> field.

Headers are compared after `header_key` (Unicode NFKC, case-folded, without whitespace or
underscores), so "Referring page URL", "referring_page_url" and "ReferringPageURL" are one
header. Each tool has renamed its columns over the years and Search Console translates them
into the account's language, hence several aliases per field. `linkcrawler import --help`
is generated from these tables, so adding an alias here documents it too.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType


class Kind(enum.Enum):
    """How a reported value is kept in BacklinkSource.reported."""

    TEXT = "text"
    BOOL = "bool"
    DATE = "date"
    NUMBER = "number"


# Fields every format may carry (users add them to any export in a spreadsheet). The
# Linkody-like names are what link-monitoring tools and agencies' sheets commonly use.
EXPECTATION_ALIASES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "expected_anchor": ("expected_anchor", "expected anchor text", "anchor expected"),
    "expected_rel": ("expected_rel", "expected link type", "rel expected", "expected follow"),
    "expires": ("expires", "expiry", "expiry date", "expiration date", "expires on", "valid until"),
    "notes": ("notes", "note", "comment", "comments"),
    "tags": ("tags", "tag", "labels", "label"),
})


@dataclass(frozen=True)
class Format:
    name: str  # the --format value, and BacklinkSource.tool
    title: str
    columns: Mapping[str, tuple[str, ...]]  # field -> header aliases, as written in the exports
    required: frozenset[str]  # fields auto-detection needs (source is always needed)
    kinds: Mapping[str, Kind] = field(default_factory=dict)  # reported fields and their kinds
    has_target: bool = True  # False: every backlink's target comes from --target
    note: str = ""


@dataclass(frozen=True)
class Refusal:
    """An export we recognise but cannot import, and which export to use instead."""

    title: str
    columns: Mapping[str, tuple[str, ...]]
    message: str


_IGNORED_IN_HEADERS = frozenset("_\ufeff\"'\u2019")


def header_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    # Turkish dotless/dotted i: casefold keeps "ı" and turns "İ" into "i" + a combining dot,
    # so "BAĞLANTI" and "bağlantı" would otherwise differ.
    text = text.replace("ı", "i").replace("i\u0307", "i")
    return "".join(c for c in text if not c.isspace() and c not in _IGNORED_IN_HEADERS)


_B, _D, _N, _T = Kind.BOOL, Kind.DATE, Kind.NUMBER, Kind.TEXT

CSV = Format(
    name="csv",
    title="linkcrawler CSV (with expectations)",
    columns={"source": ("source_url",), "target": ("target_url",)},
    required=frozenset({"source", "target"}),
    note="target_url: URL, URL prefix ending in *, or bare domain; expected_rel: "
    "follow|nofollow|sponsored|ugc|any; tags: ;-separated; expires: YYYY-MM-DD",
)

URLS = Format(
    name="urls",
    title="plain list of referring page URLs",
    columns={"source": ("url", "urls")},
    required=frozenset({"source"}),
    has_target=False,
    note="one URL per line, no header needed; # comments and blank lines are ignored; needs --target",
)

AHREFS = Format(
    name="ahrefs",
    title="Ahrefs Site Explorer backlinks export",
    columns={
        "source": ("Referring page URL", "Referring Page URL"),
        "target": ("Target URL", "Link URL"),
        "anchor": ("Anchor", "Link Anchor"),
        "title": ("Referring page title",),
        "http_status": ("Referring page HTTP code",),
        "domain_rating": ("Domain rating", "DR"),
        "url_rating": ("UR", "URL rating", "URL Rating (desc)"),
        "context_before": ("Left context", "TextPre"),
        "context_after": ("Right context", "TextPost"),
        "link_type": ("Type",),
        "nofollow": ("Nofollow", "NoFollow"),
        "ugc": ("UGC",),
        "sponsored": ("Sponsored",),
        "first_seen": ("First seen",),
        "last_seen": ("Last seen", "Last check", "Last visited"),
        "lost": ("Lost", "Day lost"),
        "lost_reason": ("Lost status", "Drop reason"),
    },
    required=frozenset({"source"}),
    kinds={
        "anchor": _T, "title": _T, "http_status": _N, "domain_rating": _N, "url_rating": _N,
        "context_before": _T, "context_after": _T, "link_type": _T, "nofollow": _B, "ugc": _B,
        "sponsored": _B, "first_seen": _D, "last_seen": _D, "lost": _D, "lost_reason": _T,
    },
    note="Ahrefs exports are often UTF-16 and tab-separated; both are detected",
)

SEMRUSH = Format(
    name="semrush",
    title="Semrush Backlink Analytics backlinks export",
    columns={
        "source": ("Source url",),
        "target": ("Target url",),
        "anchor": ("Anchor",),
        "title": ("Source title",),
        "page_ascore": ("Page ascore", "Page AS"),
        "external_links": ("External links",),
        "internal_links": ("Internal links",),
        "nofollow": ("Nofollow",),
        "sponsored": ("Sponsored",),
        "ugc": ("Ugc",),
        "image": ("Image",),
        "sitewide": ("Sitewide",),
        "first_seen": ("First seen",),
        "last_seen": ("Last seen",),
        "new_link": ("New link",),
        "lost_link": ("Lost link",),
    },
    required=frozenset({"source", "target"}),
    kinds={
        "anchor": _T, "title": _T, "page_ascore": _N, "external_links": _N, "internal_links": _N,
        "nofollow": _B, "sponsored": _B, "ugc": _B, "image": _B, "sitewide": _B,
        "first_seen": _D, "last_seen": _D, "new_link": _B, "lost_link": _B,
    },
)

# Search Console's Links report, "Latest links" and the sample-links exports, in the
# languages of the interface (the header text is translated, the structure is not).
GSC = Format(
    name="gsc",
    title='Google Search Console links export ("Latest links", "More sample links")',
    columns={
        "source": (
            "Linking page",  # en
            "Verweisende Seite", "Verlinkende Seite",  # de
            "Page de provenance du lien", "Page contenant un lien", "Page avec lien", "Page d'origine",  # fr
            "Página que enlaza", "Página de enlace", "Página de origen",  # es
            "Página de vinculação", "Página com link", "Página que contém o link",  # pt
            "Pagina che rimanda", "Pagina di collegamento", "Pagina con link",  # it
            "Linkende pagina", "Pagina met link",  # nl
            "Strona z linkiem", "Strona linkująca", "Strona odsyłająca",  # pl
            "Bağlantı veren sayfa", "Bağlantı içeren sayfa",  # tr
            "リンク元ページ", "リンク元のページ",  # ja
        ),
        "last_crawled": (
            "Last crawled",  # en
            "Zuletzt gecrawlt",  # de
            "Dernière exploration", "Date de la dernière exploration",  # fr
            "Último rastreo", "Fecha del último rastreo",  # es
            "Último rastreamento", "Data do último rastreamento",  # pt
            "Ultima scansione", "Data ultima scansione",  # it
            "Laatst gecrawld", "Laatste crawl",  # nl
            "Ostatnie skanowanie", "Ostatnio zindeksowano", "Ostatnie indeksowanie",  # pl
            "Son tarama", "Son taranma",  # tr
            "前回のクロール", "最終クロール", "最終クロール日",  # ja
        ),
    },
    required=frozenset({"source"}),
    kinds={"last_crawled": _D},
    has_target=False,
    note="Search Console does not name the linked page: pass --target (your property)",
)

MAJESTIC = Format(
    name="majestic",
    title="Majestic backlinks (API GetBackLinkData download and Site Explorer export)",
    columns={
        "source": ("SourceURL", "Source URL"),
        "target": ("TargetURL", "Target URL"),
        "anchor": ("AnchorText", "Anchor Text"),
        "nofollow": ("FlagNoFollow", "Flag No Follow"),
        "image": ("FlagImages", "Flag Image Link", "Flag Images"),
        "redirect": ("FlagRedirect", "Flag Redirect"),
        "frame": ("FlagFrame", "Flag Frame"),
        "alt_text": ("FlagAltText", "Flag Alt Text"),
        "mention": ("FlagMention", "Flag Mention"),
        "deleted": ("FlagDeleted", "Flag Deleted"),
        "trust_flow": ("SourceTrustFlow", "Source Trust Flow"),
        "citation_flow": ("SourceCitationFlow", "Source Citation Flow"),
        "first_seen": ("FirstIndexedDate", "Source First Found Date", "First Indexed Date"),
        "last_seen": ("LastSeenDate", "Source Crawl Date", "Last Crawl Date"),
        "lost": ("DateLost",),
        "lost_reason": ("ReasonLost", "Reason Lost"),
        "link_type": ("LinkType", "Link Type"),
        "link_subtype": ("LinkSubType", "Link Sub Type"),
    },
    required=frozenset({"source", "target"}),
    kinds={
        "anchor": _T, "nofollow": _B, "image": _B, "redirect": _B, "frame": _B, "alt_text": _B,
        "mention": _B, "deleted": _B, "trust_flow": _N, "citation_flow": _N, "first_seen": _D,
        "last_seen": _D, "lost": _D, "lost_reason": _T, "link_type": _T, "link_subtype": _T,
    },
)

MOZ = Format(
    name="moz",
    title="Moz Link Explorer inbound links export",
    columns={
        "source": ("URL", "Source URL"),
        "target": ("Target URL",),
        "anchor": ("Anchor Text",),
        "title": ("Title", "Source Title"),
        "link_type": ("Link Type",),
        "spam_score": ("Spam Score",),
        "domain_authority": ("Domain Authority", "DA"),
        "page_authority": ("Page Authority", "PA"),
        "first_seen": ("Date First Seen", "First Seen"),
        "last_seen": ("Date Last Seen", "Last Seen"),
        "lost": ("Date Lost",),
    },
    required=frozenset({"source", "target"}),
    kinds={
        "anchor": _T, "title": _T, "link_type": _T, "spam_score": _N, "domain_authority": _N,
        "page_authority": _N, "first_seen": _D, "last_seen": _D, "lost": _D,
    },
)

SCREAMING_FROG = Format(
    name="screamingfrog",
    title="Screaming Frog SEO Spider inlinks/outlinks export",
    columns={
        "link_kind": ("Type",),
        "source": ("Source",),
        "target": ("Destination",),
        "anchor": ("Anchor",),
        "alt_text": ("Alt Text",),
        "target_status": ("Status Code",),
        "follow": ("Follow",),
        "rel": ("Rel",),
        "position": ("Link Position",),
        "link_path": ("Link Path",),
        "link_origin": ("Link Origin",),
    },
    required=frozenset({"source", "target"}),
    kinds={
        "link_kind": _T, "anchor": _T, "alt_text": _T, "target_status": _N, "follow": _B,
        "rel": _T, "position": _T, "link_path": _T, "link_origin": _T,
    },
    note="only rows of Type Hyperlink are backlinks; images, CSS, canonicals... are left out",
)

# Detection tries these in order; a tie in matched headers goes to the earlier one, so a
# file with only source/target columns is ours.
FORMATS: tuple[Format, ...] = (CSV, AHREFS, SEMRUSH, MAJESTIC, MOZ, SCREAMING_FROG, GSC, URLS)
BY_NAME: Mapping[str, Format] = MappingProxyType({f.name: f for f in FORMATS})

_SITE = ("Site", "Website", "Sitio", "Sito", "Witryna", "サイト", "Sitio web")
REFUSALS: tuple[Refusal, ...] = (
    Refusal(
        title='Search Console "Top linking sites"',
        columns={
            "site": _SITE,
            "linking_pages": (
                "Linking pages", "Verweisende Seiten", "Pages avec lien", "Pages contenant un lien",
                "Páginas que enlazan", "Páginas de vinculação", "Páginas com link",
                "Pagine che rimandano", "Linkende pagina's", "Strony z linkami",
                "Bağlantı veren sayfalar", "リンク元ページ", "リンク元ページ数",
            ),
        },
        message="this export lists linking sites (domains), not the pages that link to you. "
        'In Search Console open Links > "Top linking sites" > MORE, or Links > EXPORT EXTERNAL '
        'LINKS > "Latest links", and import that export with --target YOUR_SITE',
    ),
    Refusal(
        title='Search Console "Top linked pages"',
        columns={
            "target_page": ("Target page", "Zielseite", "Page cible", "Página de destino",
                            "Pagina di destinazione", "Doelpagina", "Strona docelowa",
                            "Hedef sayfa", "ターゲット ページ"),
            "incoming_links": ("Incoming links", "Eingehende Links", "Liens entrants",
                               "Enlaces entrantes", "Links de entrada", "Link in entrata",
                               "Inkomende links", "Linki przychodzące", "Gelen bağlantılar",
                               "受信リンク"),
        },
        message="this export lists your own pages, not the pages that link to them. In Search "
        'Console use Links > EXPORT EXTERNAL LINKS > "Latest links" and import that export '
        "with --target YOUR_SITE",
    ),
)


@dataclass(frozen=True)
class Detected:
    format: Format
    columns: Mapping[str, int]  # field -> column index in the header


class UnknownFormat(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)


def _alias_index(columns: Mapping[str, Sequence[str]]) -> dict[str, str]:
    index: dict[str, str] = {}
    for name, aliases in columns.items():
        for alias in aliases:
            index.setdefault(header_key(alias), name)
    return index


_FORMAT_INDEX = {f.name: _alias_index(f.columns) for f in FORMATS}
_EXPECTATION_INDEX = _alias_index(EXPECTATION_ALIASES)
_REFUSAL_INDEX = [(r, _alias_index(r.columns)) for r in REFUSALS]


def match_columns(fmt: Format, header: Sequence[str]) -> dict[str, int]:
    """Which column holds each field of `fmt` (first one wins), expectation columns included."""
    own = _FORMAT_INDEX[fmt.name]
    found: dict[str, int] = {}
    for i, text in enumerate(header):
        key = header_key(text)
        name = own.get(key) or _EXPECTATION_INDEX.get(key)
        if name and name not in found:
            found[name] = i
    return found


def detect(header: Sequence[str]) -> Detected:
    """The format whose headers `header` matches best; UnknownFormat if none does."""
    keys = {header_key(h) for h in header}
    for refusal, index in _REFUSAL_INDEX:
        if set(refusal.columns) <= {index[k] for k in keys if k in index}:
            raise UnknownFormat(f"{refusal.title}: {refusal.message}")
    best: Detected | None = None
    best_score = 0
    for fmt in FORMATS:
        if fmt is URLS:
            continue  # a URL list has no header to match: see looks_like_url_list
        columns = match_columns(fmt, header)
        if not fmt.required <= columns.keys():
            continue
        score = sum(1 for name in columns if name in fmt.columns)
        if score > best_score:
            best, best_score = Detected(fmt, columns), score
    if best is None:
        raise UnknownFormat(unknown_format_message(header))
    return best


def unknown_format_message(header: Sequence[str]) -> str:
    seen = ", ".join(repr(h) for h in header[:30]) or "(none)"
    known = "; ".join(f"{f.name} ({', '.join(_required_headers(f))})" for f in FORMATS)
    return (
        f"unknown format: the header row has {seen}. Known formats and the headers they need: "
        f"{known}. Pass --format to choose one (see linkcrawler import --help)"
    )


def _required_headers(fmt: Format) -> list[str]:
    if fmt is URLS:
        return ["no header, one URL per line"]
    return [fmt.columns[name][0] for name in ("source", "target") if name in fmt.required]


def help_text() -> str:
    """The formats section of `linkcrawler import --help`, generated from the tables."""
    out = ["formats (detected from the header row; --format overrides):"]
    for fmt in FORMATS:
        out.append(f"  {fmt.name}: {fmt.title}")
        for name, aliases in fmt.columns.items():
            out.append(f"      {name}: {' | '.join(aliases)}")
        if fmt.note:
            out.append(f"      note: {fmt.note}")
    out.append("  refused, with the export to use instead:")
    for refusal in REFUSALS:
        shown = " + ".join(aliases[0] for aliases in refusal.columns.values())
        out.append(f"      {refusal.title} ({shown})")
    out.append("  expectation columns accepted in every format:")
    for name, aliases in EXPECTATION_ALIASES.items():
        out.append(f"      {name}: {' | '.join(aliases)}")
    out.append("  headers match case-, space- and underscore-insensitively; CSV or TSV in UTF-8")
    out.append("  (with or without BOM) or UTF-16 (BOM), delimiter , ; or tab, LF/CRLF/CR; or XLSX.")
    return "\n".join(out)
