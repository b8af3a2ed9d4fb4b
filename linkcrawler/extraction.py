"""Link and page-level extraction from HTML: a pure function of (html, url).

The dataclasses below are the interface the rest of the project codes against: fields may be
added, never renamed or removed. `parse_page` parses once with libxml2's HTML parser (through
lxml.html, whose elements the position classifier expects) and walks the tree once; nothing in
here raises on any input (RELIABILITY INP-1).

Decisions
---------
Decoding (bytes): see linkcrawler.charset — BOM, then UTF-16 without BOM, then the
Content-Type charset, then `<meta charset>`, each label only when the bytes do not contradict
it, then detection. `PageInfo.charset` names the encoding used ("" when given a str).

Which elements are links: `<a href>` and `<area href>` (an empty href is a link to the page
itself), and SVG `<a>` with `href` or `xlink:href` (`href` wins when both are present, as in
SVG 2). `element` is "a", "area" or "svg:a". Links inside `<template>` are reported, with
`hidden=True` (template contents are never rendered).

`url`: the href with leading/trailing C0 controls and spaces stripped and tabs/newlines
removed (WHATWG), backslashes read as slashes, resolved against the document base URL; None
unless the result is an http/https URL with a valid host and port. The result is serialised
the WHATWG way: lower-case scheme and host, IDN host in punycode (UTS 46, non-transitional),
default port dropped, empty path "/", spaces and non-ASCII percent-encoded as UTF-8, fragment
kept. Dot segments are removed; nothing else (query order, tracking parameters, trailing slash)
is touched: that is linkcrawler.urls' job when matching.

Base URL: the first `<base>` with an href anywhere in the document (head, late in the head or
in the body: HTML spec "first base element with an href in tree order"), resolved against the
page URL. A base that does not resolve to an http(s) URL is ignored (the page URL is used) —
a browser would fail every relative link instead; later `<base>` elements are never used.

`anchor_text`: the text of the link with whitespace (including no-break spaces) collapsed to
single spaces and trimmed; block elements and `<br>` inside the link separate words. Text
that is never rendered is left out: `<script>`, `<style>`, `<template>`, `<title>` (inside
SVG: a tooltip). Text of hidden descendants (e.g. a `<span class="sr-only">`) is kept: it is
part of the link's text for search engines and screen readers; `hidden` speaks about the link
itself. `<noscript>` text is kept (it is what a client without scripts, like ours, renders).
For `<area>` the anchor text is its `alt`. `img_alt`: the collapsed `alt` of the first `<img>`
inside the link whose alt is not empty, else "".

`rel`: split on ASCII whitespace and on commas (Google accepts `rel="ugc,nofollow"`),
lower-cased, de-duplicated, in document order.

`hidden` — True when the link is not visible on screen in the default rendering, as far as the
HTML alone can tell, because the link itself or an ancestor has:
  * the `hidden` attribute (any value, including "until-found");
  * an inline style with `display: none`, or `visibility: hidden|collapse` (any case and
    spacing, `!important` or not, CSS comments ignored; the last declaration wins unless an
    earlier one is !important; visibility is inherited, so a descendant with
    `visibility: visible` is visible again, as in CSS);
  * one of the common utility classes that hide: `hidden`, `d-none`, `invisible`, `hide`,
    `is-hidden`, `sr-only`, `visually-hidden`, `visuallyhidden`, `visually-hidden-focusable`,
    `screen-reader-text`, `screen-reader-only`, `element-invisible`, `u-hidden`; except when
    the same element also carries a responsive class that shows it again at some viewport
    (`md:block`, `lg:flex`, `sm:visible`, `d-md-block`, ...), as in `class="hidden md:block"`;
  * is a `<dialog>` without `open`, or sits inside `<template>`.
  `aria-hidden="true"` does NOT count: it hides from assistive technology only; such links
  (duplicate card links, icon links) are fully visible. Stylesheets, off-screen positioning,
  zero size, colour and scripts are not evaluated.

`context_before` / `context_after`: the visible text (same rules as anchor text) of the nearest
block-level ancestor (p, li, td, div, section, article, h1-h6, blockquote, dd, body, ...)
before and after the link, whitespace collapsed, at most 120 characters each: the last 120
before, the first 120 after; a word cut in two at that limit is dropped (unless the text has no
spaces there, as in Chinese or Japanese, then the cut is at exactly 120). Text of nested blocks
inside that ancestor counts, text outside it does not. Links inside `<template>` have no
context. The text is collected in one stream during the walk and dropped as soon as no link
can need it, so a huge page never holds all its text twice. The verifier, which wants only the
links to its targets' sites (`parse_page(..., classify, only_classified, skip_hosts)`), walks
only the blocks that hold such links, seeded with what their ancestors pass down (hidden,
template, SVG); tests/test_scan_of_interest.py holds it equal to the whole walk.

`position`, `path`, `position_signal`: from linkcrawler.position.classify_positions, called once
per page. If it fails, every link gets position body and a signal saying so (the page is not
lost for a classifier bug).

Page level: `title` is the first `<title>` outside SVG, collapsed. `meta_robots` are the
directives of every `<meta name=robots|googlebot>` (name case-insensitive), in document order,
lower-case, split on commas (and on spaces when every word is a bare directive, as in
"noindex nofollow"), de-duplicated. `x_robots_tag` are the directives of the X-Robots-Tag header
values that apply to Googlebot: unprefixed ones and those after "googlebot:"; a "otherbot:"
prefix scopes the directives after it, within the same header value, to that bot (Google's
reading of "otherbot: noindex, nofollow"). `unavailable_after: <date>` is kept as one directive
"unavailable_after: <date>" (commas inside the date included) and does not set noindex: the
date is judged by the caller, not by a pure function. `noindex` / `page_nofollow`: "noindex" /
"nofollow" or "none" in either list. `canonical`: the first `<link rel=canonical>` (anywhere:
parsers move head elements into the body on broken pages) whose href resolves to an http(s)
URL; `canonicals` lists every distinct one, so callers can see conflicting declarations (Google
then ignores them). Meta refresh: the first `<meta http-equiv=refresh>` anywhere, parsed
leniently ("5;url=x", "5, URL = 'x'", "5 x", "url=x" with no delay means 0);
`meta_refresh_delay` is set whenever one was found, `meta_refresh_url` only when it names a URL
that resolves to http(s) (a bare "5" reloads the page itself).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import unquote

import lxml.etree
import lxml.html

from linkcrawler import position as _position
from linkcrawler.charset import html_to_utf8
from linkcrawler.enums import Position
from linkcrawler.memo import MEMO_KEY_CHARS, remember

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Link:
    """One hyperlink as found on a page, with where it was found (DESIGN §3)."""

    href: str  # raw attribute value
    url: str | None  # absolute http(s) URL, resolved against <base href> then the page URL
    anchor_text: str
    img_alt: str
    rel: tuple[str, ...]  # lower-case tokens, document order, no duplicates
    nofollow: bool
    sponsored: bool
    ugc: bool
    position: Position
    hidden: bool
    context_before: str
    context_after: str
    path: str  # element path that justifies `position`, e.g. html/body/footer/nav/ul/li[3]/a
    position_signal: str = ""  # the deciding signal of the position classifier
    element: str = "a"  # "a", "area" or "svg:a"


@dataclass(frozen=True, slots=True)
class PageInfo:
    """Page-level facts that decide indexability and how links are followed."""

    title: str
    meta_robots: tuple[str, ...]  # directives from <meta name=robots|googlebot>, lower-case
    x_robots_tag: tuple[str, ...]  # directives from X-Robots-Tag headers that apply to Googlebot
    noindex: bool
    page_nofollow: bool
    canonical: str | None  # absolute URL
    content_type: str
    bytes: int
    base_url: str  # the URL links were resolved against
    meta_refresh_url: str | None = None  # absolute URL of a <meta http-equiv=refresh>
    meta_refresh_delay: float | None = None
    charset: str = ""
    canonicals: tuple[str, ...] = ()  # every distinct canonical URL declared, in order


@dataclass(frozen=True, slots=True)
class ParsedPage:
    links: tuple[Link, ...]
    info: PageInfo


# --- URL resolution ---------------------------------------------------------------------------

_C0_AND_SPACE = "".join(chr(i) for i in range(0x21))
_TAB_NEWLINE = {0x09: None, 0x0A: None, 0x0D: None}
_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_WEB_SCHEMES = ("http", "https")
_DEFAULT_PORT = {"http": 80, "https": 443}
# scheme://authority path ?query #fragment (the authority already isolated by our callers)
_ABSOLUTE_RE = re.compile(
    r"([A-Za-z][A-Za-z0-9+.\-]*)://([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#(.*))?\Z", re.S
)
_REFERENCE_RE = re.compile(r"([^?#]*)(?:\?([^#]*))?(?:#(.*))?\Z", re.S)
# WHATWG percent-encode sets (C0, space, non-ASCII and a few ASCII characters per component).
_PATH_UNSAFE = re.compile(r'[\x00-\x20"<>`{}\x7f-\U0010ffff]')
_QUERY_UNSAFE = re.compile(r"[\x00-\x20\"<>'\x7f-\U0010ffff]")
_FRAGMENT_UNSAFE = re.compile(r'[\x00-\x20"<>`\x7f-\U0010ffff]')
_FORBIDDEN_HOST = re.compile(r"[\x00-\x20#%/:<>?@\[\\\]^|\x7f]")
_IPV6_HOST = re.compile(r"\[[0-9A-Fa-f:.]+\]\Z")
_DOT_SEGMENTS = frozenset({".", "%2e", "%2E"})
_DOTDOT_SEGMENTS = frozenset(
    {"..", ".%2e", ".%2E", "%2e.", "%2E.", "%2e%2e", "%2E%2E", "%2e%2E", "%2E%2e"}
)


@dataclass(frozen=True, slots=True)
class _Url:
    """A valid absolute http(s) URL, serialised part by part (no fragment)."""

    scheme: str
    authority: str  # [userinfo@]host[:port], host lower-case punycode, default port dropped
    path: str  # starts with "/"
    query: str | None

    def text(self, fragment: str | None = None) -> str:
        query = "" if self.query is None else "?" + self.query
        frag = "" if fragment is None else "#" + _FRAGMENT_UNSAFE.sub(_percent_encode, fragment)
        return f"{self.scheme}://{self.authority}{self.path}{query}{frag}"


def _percent_encode(match: re.Match[str]) -> str:
    return "".join(f"%{b:02X}" for b in match.group(0).encode("utf-8", "replace"))


def _before_query(ref: str) -> int:
    return min((i for i in (ref.find("?"), ref.find("#")) if i >= 0), default=len(ref))


def _backslashes_to_slashes(ref: str) -> str:
    """For http(s) URLs a backslash before the query is a slash (WHATWG)."""
    if "\\" not in ref:
        return ref
    cut = _before_query(ref)
    return ref[:cut].replace("\\", "/") + ref[cut:]


def _idna_host(host: str) -> str | None:
    if host.isascii():
        return host.lower()
    try:
        import idna

        return idna.encode(host, uts46=True, transitional=False).decode("ascii")
    except Exception:  # noqa: BLE001 - idna raises several types; fall back to IDNA 2003
        pass
    try:
        return host.lower().encode("idna").decode("ascii")
    except UnicodeError:
        return None


def _authority(scheme: str, raw: str) -> str | None:
    userinfo, at, hostport = raw.rpartition("@")
    if hostport.startswith("["):
        close = hostport.find("]")
        host, rest = hostport[: close + 1].lower(), hostport[close + 1 :]
        if close < 0 or not _IPV6_HOST.match(host) or (rest and not rest.startswith(":")):
            return None
        port = rest[1:]
    else:
        host, _, port = hostport.partition(":")
        if "%" in host:
            host = unquote(host, errors="strict")
        trailing_dot = host.endswith(".") and len(host) > 1
        host = _idna_host(host.rstrip(".")) if trailing_dot else _idna_host(host)
        if not host or _FORBIDDEN_HOST.search(host):
            return None
        if trailing_dot:
            host += "."
    if port:
        if not (port.isascii() and port.isdigit()) or int(port) > 65535:
            return None
        port = "" if int(port) == _DEFAULT_PORT[scheme] else f":{int(port)}"
    user = _PATH_UNSAFE.sub(_percent_encode, userinfo) + "@" if at and userinfo else ""
    return f"{user}{host}{port}"


def _remove_dot_segments(path: str) -> str:
    if "." not in path and "%2" not in path:
        return path
    out: list[str] = []
    segments = path.split("/")[1:]
    last = len(segments) - 1
    for i, segment in enumerate(segments):
        if segment in _DOT_SEGMENTS:
            if i == last:
                out.append("")
        elif segment in _DOTDOT_SEGMENTS:
            if out:
                out.pop()
            if i == last:
                out.append("")
        else:
            out.append(segment)
    return "/" + "/".join(out)


def _parse_absolute(url: str) -> tuple[_Url, str | None] | None:
    """(URL, fragment) of an absolute http(s) URL string, normalised; None if it is not one."""
    match = _ABSOLUTE_RE.match(url)
    if match is None:
        return None
    scheme, raw_authority, path, query, fragment = match.groups()
    scheme = scheme.lower()
    if scheme not in _WEB_SCHEMES:
        return None
    authority = _authority(scheme, raw_authority)
    if authority is None:
        return None
    path = _remove_dot_segments(_PATH_UNSAFE.sub(_percent_encode, path) or "/")
    if query is not None:
        query = _QUERY_UNSAFE.sub(_percent_encode, query)
    return _Url(scheme, authority, path, query), fragment


def _clean(href: str) -> str:
    href = href.strip(_C0_AND_SPACE)
    # str.translate looks up every character (~2 us an href); most hrefs have nothing to drop
    if "\t" in href or "\n" in href or "\r" in href:
        return href.translate(_TAB_NEWLINE)
    return href


def _resolve(base: _Url | None, base_scheme: str, href: str) -> str | None:
    ref = _clean(href)
    match = _SCHEME_RE.match(ref)
    if match:
        scheme = match.group(1).lower()
        if scheme not in _WEB_SCHEMES:
            return None
        rest = ref[match.end() :]
        if scheme != base_scheme or rest[:2] in ("//", "\\\\", "/\\", "\\/"):
            # any number of slashes or backslashes, then the authority
            authority = _backslashes_to_slashes(rest.lstrip("/\\"))
            parsed = _parse_absolute(f"{scheme}://{authority}")
            return parsed[0].text(parsed[1]) if parsed else None
        ref = rest  # "http:foo" on an http page is a relative reference (WHATWG)
    if base is None:
        return None
    ref = _backslashes_to_slashes(ref)
    if ref.startswith("//"):
        parsed = _parse_absolute(f"{base.scheme}:{ref}")
        return parsed[0].text(parsed[1]) if parsed else None
    path, query, fragment = _REFERENCE_RE.match(ref).groups()
    if not path:
        joined = base.path
        query = base.query if query is None else query
    elif path.startswith("/"):
        joined = path
    else:
        joined = base.path[: base.path.rfind("/") + 1] + path
    joined = _remove_dot_segments(_PATH_UNSAFE.sub(_percent_encode, joined))
    if query is not None:
        query = _QUERY_UNSAFE.sub(_percent_encode, query)
    return _Url(base.scheme, base.authority, joined, query).text(fragment)


class _Resolver:
    """Resolves many hrefs against one base; remembers answers (pages repeat hrefs a lot)."""

    __slots__ = ("base", "base_scheme", "done")

    def __init__(self, base: str) -> None:
        parsed = _parse_absolute(_clean(base)) if base else None
        self.base = parsed[0] if parsed else None
        self.base_scheme = self.base.scheme if self.base else _clean(base).partition(":")[0].lower()
        self.done: dict[str, str | None] = {}

    def __call__(self, href: str) -> str | None:
        try:
            return self.done[href]
        except KeyError:
            pass
        try:
            url = _resolve(self.base, self.base_scheme, href)
        except (ValueError, UnicodeError):
            url = None
        self.done[href] = url
        return url

    @property
    def url(self) -> str | None:
        return self.base.text() if self.base else None


def resolve_href(base: str, href: str) -> str | None:
    """`href` resolved against `base` as an absolute http(s) URL, or None (see module doc)."""
    return _Resolver(base)(href)


# --- robots directives and meta refresh ---------------------------------------------------------

_BARE_DIRECTIVES = frozenset({
    "all", "index", "follow", "noindex", "nofollow", "none", "noarchive", "nocache",
    "nosnippet", "noimageindex", "notranslate", "indexifembedded", "noodp", "noydir",
    "nositelinkssearchbox",
})
_VALUED_DIRECTIVES = frozenset({
    "unavailable_after", "max-snippet", "max-image-preview", "max-video-preview",
})


def _normalize_directive(item: str) -> str:
    name, colon, value = item.partition(":")
    name = name.strip()
    if colon and name in _VALUED_DIRECTIVES:
        sep = ": " if name == "unavailable_after" else ":"
        return f"{name}{sep}{value.strip()}"
    return item


def _is_directive_start(token: str) -> bool:
    name, colon, rest = token.partition(":")
    name = name.strip()
    if token in _BARE_DIRECTIVES or name in _VALUED_DIRECTIVES:
        return True
    # "otherbot: noindex": a user-agent prefix before a directive
    rest = rest.strip()
    return bool(colon) and (rest.split(":")[0].strip() in _BARE_DIRECTIVES | _VALUED_DIRECTIVES)


def _split_directives(content: str) -> list[str]:
    """Comma-separated directives, lower-case, whitespace collapsed; dates kept whole."""
    items: list[str] = []
    for part in content.split(","):
        token = " ".join(part.split()).lower()
        if not token:
            continue
        if items and "unavailable_after:" in items[-1] and not _is_directive_start(token):
            items[-1] = f"{items[-1]}, {token}"  # "unavailable_after: Saturday, 01-Jul-23 ..."
            continue
        words = token.split()
        if len(words) > 1 and ":" not in token and all(w in _BARE_DIRECTIVES for w in words):
            items.extend(words)
            continue
        items.append(token)
    return items


def _dedupe(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def meta_robots_directives(contents: Iterable[str]) -> tuple[str, ...]:
    return _dedupe(_normalize_directive(d) for c in contents for d in _split_directives(c))


def x_robots_directives(values: Iterable[str]) -> tuple[str, ...]:
    """The directives of X-Robots-Tag header values that apply to Googlebot."""
    out: list[str] = []
    for value in values:
        scope: str | None = None  # None: all crawlers
        for item in _split_directives(str(value)):
            head, colon, rest = item.partition(":")
            head = head.strip()
            if colon and head not in _VALUED_DIRECTIVES and head not in _BARE_DIRECTIVES:
                scope, item = head, rest.strip()
                if not item:
                    continue
            if scope is None or scope == "googlebot":
                out.append(_normalize_directive(item))
    return _dedupe(out)


_REFRESH_RE = re.compile(
    r"""[\t\n\f\r ]*(?P<delay>[0-9]*)[0-9.]*[\t\n\f\r ]*[;,]?[\t\n\f\r ]*
        (?P<url>.*)""",
    re.X | re.S,
)
_REFRESH_URL_PREFIX = re.compile(r"url[\t\n\f\r ]*=[\t\n\f\r ]*", re.I)


def parse_meta_refresh(content: str) -> tuple[float | None, str | None]:
    """(delay, raw URL or None) of a meta refresh `content`; (None, None) when unusable."""
    match = _REFRESH_RE.match(content)
    delay_text, rest = match.group("delay"), match.group("url").strip()
    prefix = _REFRESH_URL_PREFIX.match(rest)
    if prefix:
        rest = rest[prefix.end() :]
    elif not delay_text:
        return None, None
    delay = float(int(delay_text)) if delay_text else 0.0
    if rest[:1] in ("'", '"'):
        quote, rest = rest[0], rest[1:]
        rest = rest.split(quote, 1)[0]
    rest = rest.strip()
    return delay, (rest or None)


# --- parsing ------------------------------------------------------------------------------------

# libxml2 stops at depth 2048 (with huge_tree) and drops everything after; then we re-parse
# with the excess start tags removed, lower limits first failing.
_DEPTH_LIMITS = (1500, 400, 0)
_KEEP_TAGS = frozenset({
    b"a", b"area", b"base", b"meta", b"link", b"title", b"img", b"svg", b"br", b"head", b"body",
    b"html", b"template", b"script", b"style",
})
_VOID_TAGS = frozenset({
    b"area", b"base", b"br", b"col", b"embed", b"hr", b"img", b"input", b"link", b"meta",
    b"source", b"track", b"wbr", b"param", b"keygen",
})
_TAG_RE = re.compile(rb"<(/?)([A-Za-z][A-Za-z0-9:-]*)([^>]*)>")


def _flatten(data: bytes, limit: int) -> bytes:
    """Remove start tags (and their end tags) that would open deeper than `limit`."""
    depth = 0
    dropped: dict[bytes, int] = {}

    def visit(match: re.Match[bytes]) -> bytes:
        nonlocal depth
        name = match.group(2).lower()
        if match.group(1):
            if dropped.get(name):
                dropped[name] -= 1
                return b""
            depth = max(depth - 1, 0)
            return match.group(0)
        if name in _VOID_TAGS or match.group(3).endswith(b"/"):
            return match.group(0)
        if depth >= limit and name not in _KEEP_TAGS:
            dropped[name] = dropped.get(name, 0) + 1
            return b""
        depth += 1
        return match.group(0)

    return _TAG_RE.sub(visit, data)


def _parser() -> lxml.html.HTMLParser:
    parser = lxml.html.HTMLParser(
        encoding="utf-8", huge_tree=True, no_network=True, remove_comments=True,
        remove_pis=True, default_doctype=False,
    )
    # lxml.html's own lookup runs Python code for every element proxy; the classifier only
    # needs HtmlElement's methods (text_content), so a C-level lookup is enough and ~2x faster.
    parser.set_element_class_lookup(
        lxml.etree.ElementDefaultClassLookup(element=lxml.html.HtmlElement)
    )
    return parser


def _too_deep(parser: lxml.html.HTMLParser) -> bool:
    return any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log)


def _parse(data: bytes):  # noqa: ANN202 - lxml's HtmlElement or None
    parser = _parser()
    try:
        root = lxml.etree.fromstring(data, parser)
    except (lxml.etree.ParserError, lxml.etree.XMLSyntaxError, ValueError):
        return None
    for limit in _DEPTH_LIMITS:
        if not _too_deep(parser):
            break
        parser = _parser()
        root = lxml.etree.fromstring(_flatten(data, limit), parser)
    return root


def _to_utf8(html: str | bytes, content_type: str) -> tuple[bytes, str, int]:
    """(UTF-8 bytes for libxml2, charset name used, size of the input in bytes)."""
    if isinstance(html, bytes | bytearray | memoryview):
        raw = bytes(html)
        data, choice = html_to_utf8(raw, content_type)
        return data, choice.name, len(raw)
    text = str(html).removeprefix("\ufeff")
    data = text.encode("utf-8", "replace")  # lone surrogates become "?"
    return data, "", len(data)


# --- the walk -----------------------------------------------------------------------------------

_BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details",
    "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form",
    "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "legend", "li",
    "listing", "main", "menu", "nav", "ol", "optgroup", "option", "p", "pre", "section",
    "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "xmp",
})
_UNRENDERED_TAGS = frozenset({"script", "style", "template", "title", "head"})
_HIDING_CLASSES = frozenset({
    "hidden", "d-none", "invisible", "hide", "is-hidden", "sr-only", "visually-hidden",
    "visuallyhidden", "visually-hidden-focusable", "screen-reader-text", "screen-reader-only",
    "element-invisible", "u-hidden",
})
_SHOWING_CLASS = re.compile(
    r"(?:sm|md|lg|xl|2xl):(?:block|inline|inline-block|flex|inline-flex|grid|inline-grid|"
    r"table|table-row|table-cell|contents|flow-root|list-item|visible|not-sr-only)"
    r"|d-(?:sm|md|lg|xl|xxl)-(?:block|inline|inline-block|flex|inline-flex|grid|table|"
    r"table-row|table-cell)"
)
_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|$)", re.S)
_IMPORTANT = re.compile(r"!\s*important\s*$", re.I)
_REL_SPLIT = re.compile(r"[\t\n\f\r ,]+")
_CONTEXT_CHARS = 120


class _Visibility:
    """What one element's own attributes say about showing its subtree."""

    HIDES = 1  # display:none, hidden attribute, hiding class, closed dialog
    SHOWS = 2  # visibility: visible (inherited; undoes an ancestor's visibility: hidden)
    VIS_HIDDEN = 4  # visibility: hidden|collapse (inherited)


def _style_visibility(style: str) -> int:
    display: tuple[bool, str] | None = None  # (important, value)
    visibility: tuple[bool, str] | None = None
    for decl in _CSS_COMMENT.sub("", style).split(";"):
        prop, colon, value = decl.partition(":")
        if not colon:
            continue
        prop = prop.strip().lower()
        if prop not in ("display", "visibility"):
            continue
        important = bool(_IMPORTANT.search(value))
        value = _IMPORTANT.sub("", value).strip().lower()
        current = display if prop == "display" else visibility
        if current is not None and current[0] and not important:
            continue  # an earlier !important declaration wins
        if prop == "display":
            display = (important, value)
        else:
            visibility = (important, value)
    flags = 0
    if display is not None and display[1] == "none":
        flags |= _Visibility.HIDES
    if visibility is not None:
        if visibility[1] in ("hidden", "collapse"):
            flags |= _Visibility.VIS_HIDDEN
        elif visibility[1] == "visible":
            flags |= _Visibility.SHOWS
    return flags


def _element_visibility(hidden: str | None, style: str | None, classes: str | None) -> int:
    flags = 0
    if hidden is not None:
        flags |= _Visibility.HIDES
    if style:
        flags |= _style_visibility(style)
    if classes:
        tokens = classes.split()
        if not _HIDING_CLASSES.isdisjoint(tokens) and not any(
            _SHOWING_CLASS.fullmatch(t) for t in tokens
        ):
            flags |= _Visibility.HIDES
    return flags


@dataclass(slots=True)
class _LinkRecord:
    el: object  # dropped once positions are known, so that the tree can be freed
    href: str
    rel: str
    element: str
    hidden: bool
    block: int  # id of the nearest block ancestor (0: the document)
    start: int  # absolute index in the text stream where the link's text starts
    end: int = -1
    img_alt: str = ""
    anchor_text: str = ""
    context_before: str = ""
    context_after: str = ""
    skipped: bool = False  # certainly of no interest to the caller: no texts, no URL


# An http(s) URL whose authority is plain: lower-case scheme and host name, no tab, newline,
# backslash or percent sign in it, so the host is what a full parse would find.
_PLAIN_ABSOLUTE = re.compile(r"https?://(?:[^/?#@\[\]\\\s%]*@)?([a-z0-9.-]+)(?::[0-9]*)?(?:[/?#].*)?\Z", re.S)
# _HrefSkip.verdict for a relative reference that keeps the base's host: a path that does not
# start with two slashes, a query or a fragment (anything that might hold a scheme is not one).
_RELATIVE = object()


class _HrefSkip:
    """Which raw hrefs certainly lead to hosts the caller has no interest in (`outside`), so
    the walk spends nothing on them; anything unusual is left to the full treatment."""

    __slots__ = ("hosts", "outside", "page_outside")

    def __init__(self, outside: Callable[[str], bool], page_url: str) -> None:
        self.outside = outside
        self.hosts: dict[str, bool] = {}  # a page names few hosts, in a hundred links
        self.page_outside = self.verdict(page_url) is True

    def verdict(self, href: str) -> object:
        """True: skip; _RELATIVE: same host as the base; False: needs the full treatment."""
        m = _PLAIN_ABSOLUTE.match(href)
        if m is not None:
            host = m.group(1)
            known = self.hosts.get(host)
            if known is None:
                known = self.hosts[host] = self.outside(host.rstrip("."))
            return known
        if not href:
            return _RELATIVE
        if "\\" in href or "\t" in href or "\n" in href or "\r" in href:
            return False  # WHATWG turns these into slashes or drops them: "/\t/host" is "//host"
        first = href[0]
        if first == "/":
            return False if href[1:2] == "/" else _RELATIVE
        if first in "?#":
            return _RELATIVE
        if first <= " ":
            return False
        head = href.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
        return False if ":" in head else _RELATIVE


@dataclass(slots=True)
class _Scan:
    """Everything one walk over the tree collects."""

    links: list[_LinkRecord] = field(default_factory=list)
    title: str | None = None
    base_href: str | None = None
    robots: list[str] = field(default_factory=list)
    refresh: str | None = None
    canonical_hrefs: list[str] = field(default_factory=list)
    # a <base> came after links judged against the page's own host: walk again unfiltered
    base_after_skip: bool = False


class _TextStream:
    """The page's rendered text in document order, as chunks, keeping only what is still needed.

    Contexts are computed while walking, so the text of a huge page is never held at once:
    chunks before every open link, every link still collecting its after-context and the last
    ~130 characters (the before-context of a link yet to come) are dropped now and then.
    Indices are absolute (as if nothing had been dropped).
    """

    __slots__ = ("chunks", "dropped", "ends_space", "next_trim", "pending")

    _TRIM_EVERY = 4096  # chunks

    def __init__(self) -> None:
        self.chunks: list[str] = []
        self.dropped = 0  # chunks dropped from the front so far
        self.next_trim = self._TRIM_EVERY
        self.pending: dict[int, list[_LinkRecord]] = {}  # block id -> links awaiting after-text
        # Runs of whitespace-only chunks are stored as one " ": collapsing would merge them
        # anyway, and it bounds how many chunks hold 120 visible characters (no quadratic
        # context scans on pages of thousands of empty links).
        self.ends_space = True

    def add(self, text: str) -> None:
        if not text.isspace():
            self.chunks.append(text)
            self.ends_space = text[-1].isspace()
        elif not self.ends_space:
            self.space()

    def space(self) -> None:
        """A word boundary (block edges, <br>)."""
        if not self.ends_space:
            self.chunks.append(" ")
            self.ends_space = True

    def __len__(self) -> int:
        return self.dropped + len(self.chunks)

    def text(self, start: int, end: int) -> str:
        return _collapse("".join(self.chunks[start - self.dropped : end - self.dropped]))

    def before(self, block_start: int, at: int) -> str:
        lo = max(block_start, self.dropped) - self.dropped
        return _text_before(self.chunks, lo, at - self.dropped)

    def after(self, at: int, end: int | None = None) -> str:
        hi = len(self.chunks) if end is None else end - self.dropped
        return _text_after(self.chunks, at - self.dropped, hi)

    def await_after(self, record: _LinkRecord) -> None:
        self.pending.setdefault(record.block, []).append(record)

    def close_block(self, block: int) -> None:
        for record in self.pending.pop(block, ()):
            record.context_after = self.after(record.end)

    def finish(self) -> None:
        for block in list(self.pending):
            self.close_block(block)

    def trim(self, open_links: list[_LinkRecord]) -> None:
        """Drop the chunks no link can need any more (called when the stream has grown)."""
        keep = len(self)
        for block, records in list(self.pending.items()):
            # records end in stream order, so once one still lacks after-text, so do the rest:
            # each call looks at one unfinished record per block (no quadratic rescans)
            done = 0
            for record in records:
                after = self.after(record.end)
                if len(after) < _CONTEXT_CHARS:
                    break
                record.context_after = after
                done += 1
            if done == len(records):
                del self.pending[block]
                continue
            del records[:done]
            keep = min(keep, records[0].end)
        for record in open_links:
            keep = min(keep, record.start)
        # the before-context of a link yet to come: individually collapsed lengths never exceed
        # the collapsed length of the joined text, so this keeps at least what it needs
        kept = 0
        i = len(self.chunks)
        while i > 0 and kept <= _CONTEXT_CHARS + 10:
            i -= 1
            kept += len(_collapse(self.chunks[i])) + 1
        keep = min(keep, self.dropped + i)
        if keep > self.dropped:
            del self.chunks[: keep - self.dropped]
            self.dropped = keep
        self.next_trim = len(self) + max(self._TRIM_EVERY, len(self.chunks))


def _collapse(text: str) -> str:
    return " ".join(text.split())


# Cheap substring tests that let most class and style attributes skip the exact parse.
_CLASS_HINT = re.compile(r"hid|sr-only|invisible|d-none|screen-reader")
_CLASS_HINTED: dict[str, bool] = {}  # class attribute -> _CLASS_HINT found in it (a memo)
_STYLE_HINT = re.compile(r"none|hidden|collapse|visible", re.I)
_NAMESPACE_SWITCH = {
    ("html", "svg"): "svg", ("svg", "foreignobject"): "html", ("html", "math"): "math",
}
_SWITCH_TAGS = frozenset(tag for _, tag in _NAMESPACE_SWITCH)


def _own_visibility(el, tag: str) -> int:  # noqa: ANN001
    """_Visibility flags from the element's own attributes (hot: called for every element)."""
    hidden = el.get("hidden")
    style = el.get("style")
    classes = el.get("class")
    if style is not None and not _STYLE_HINT.search(style):
        style = None
    if classes is not None:
        # memoised: templates repeat their class strings on every page, and the regex search
        # was ~2% of a page's time
        hinted = _CLASS_HINTED.get(classes)
        if hinted is None:
            hinted = _class_hinted(classes)
        if not hinted:
            classes = None
    flags = 0
    if hidden is not None or style or classes:
        flags = _element_visibility(hidden, style, classes)
    if tag == "dialog" and el.get("open") is None:
        flags |= _Visibility.HIDES
    return flags


def _class_hinted(classes: str) -> bool:
    hinted = _CLASS_HINT.search(classes) is not None
    remember(_CLASS_HINTED, classes, hinted, len(classes))
    return hinted


@dataclass(frozen=True, slots=True)
class _Above:
    """What the ancestors of a subtree's root pass down to it (see _walk)."""

    hide_depth: int = 0
    vis_hidden: bool = False
    unrendered: int = 0
    namespace: str = "html"

    @classmethod
    def of(cls, el) -> _Above:  # noqa: ANN001
        hide_depth = unrendered = 0
        vis_hidden = False
        for node in reversed(tuple(el.iterancestors())):  # outermost first: the nearest decides
            tag = node.tag
            flags = _own_visibility(node, tag)
            if flags & _Visibility.HIDES:
                hide_depth += 1
            if flags & _Visibility.VIS_HIDDEN:
                vis_hidden = True
            elif flags & _Visibility.SHOWS:
                vis_hidden = False
            unrendered += tag in _UNRENDERED_TAGS
        return cls(hide_depth, vis_hidden, unrendered, _namespace_of(el))


_TOP = _Above()


def _walk(root, skip: _HrefSkip | None = None, above: _Above = _TOP,  # noqa: ANN001, PLR0912, PLR0915 - one pass on purpose
          base_href: str | None = None) -> _Scan:
    """Everything about the links and the page, in one pass over `root`'s subtree.

    `above` and `base_href` (the document's <base>) let it walk a subtree of a page exactly as
    the whole walk would see it (_scan_of_interest)."""
    scan = _Scan(base_href=base_href)
    skipped_relative = False
    stream = _TextStream()
    # per open element: (visibility flags, namespace it sits in, block, unrendered, link)
    stack: list[tuple] = []
    hide_depth = above.hide_depth
    vis_hidden = [above.vis_hidden]
    unrendered = above.unrendered
    namespace = above.namespace
    blocks = [(0, 0)]  # open block elements: (id, stream index where it starts); 0 = document
    block_count = 0
    open_links: list[_LinkRecord] = []
    hides, vis_flags = _Visibility.HIDES, _Visibility.SHOWS | _Visibility.VIS_HIDDEN
    switch_tags, pending = _SWITCH_TAGS, stream.pending

    # comments and processing instructions were dropped by the parser (their neighbouring
    # texts merged), so every node here is an element
    for event, el in lxml.etree.iterwalk(root, events=("start", "end")):
        if event == "end":
            flags, namespace, block, was_unrendered, link = stack.pop()
            if flags & hides:
                hide_depth -= 1
            if flags & vis_flags:
                vis_hidden.pop()
            if was_unrendered:
                unrendered -= 1
            if block:
                stream.space()
                blocks.pop()
                if block in pending:
                    stream.close_block(block)
            if link is not None:
                open_links.pop()
                if link.end < 0:  # in the text stream (not <area>, not inside <template>)
                    link.end = len(stream)
                    link.anchor_text = stream.text(link.start, link.end)
                    stream.await_after(link)
            tail = el.tail
            if tail and not unrendered:
                stream.add(tail)
                if len(stream) >= stream.next_trim:
                    stream.trim(open_links)
            continue
        tag = el.tag
        flags = _own_visibility(el, tag)
        child_ns = (_NAMESPACE_SWITCH.get((namespace, tag), namespace) if tag in switch_tags
                    else namespace)
        if flags:
            if flags & hides:
                hide_depth += 1
            if flags & _Visibility.VIS_HIDDEN:
                vis_hidden.append(True)
            elif flags & _Visibility.SHOWS:
                vis_hidden.append(False)
        is_unrendered = tag in _UNRENDERED_TAGS
        if is_unrendered:
            unrendered += 1
        block = 0
        link = None
        if tag in _BLOCK_TAGS:
            stream.space()
            block_count += 1
            block = block_count
            blocks.append((block, len(stream)))
        elif tag == "br":
            stream.space()
        elif tag == "a" or tag == "area":
            href = el.get("href")
            element = tag
            if namespace == "svg" and tag == "a":
                element = "svg:a"
                if href is None:
                    href = el.get("xlink:href")
            if href is not None:
                block_id, block_start = blocks[-1]
                link = _LinkRecord(
                    el, href, el.get("rel") or "", element,
                    hidden=bool(hide_depth or vis_hidden[-1] or unrendered),
                    block=block_id, start=len(stream),
                )
                if skip is not None:
                    verdict = skip.verdict(href)
                    if verdict is _RELATIVE:
                        link.skipped = skip.page_outside and scan.base_href is None
                        skipped_relative = skipped_relative or link.skipped
                    else:
                        link.skipped = verdict is True
                if link.skipped:
                    link.end = link.start  # neither anchor text nor contexts
                elif tag == "area" or unrendered:
                    # no text of its own in the stream: <area> has its alt, <template> is unrendered
                    link.end = link.start
                    own = el.get("alt") or "" if tag == "area" else "".join(el.itertext())
                    link.anchor_text = _collapse(own)
                    if tag == "area" and not unrendered:
                        link.context_before = stream.before(block_start, link.start)
                        stream.await_after(link)
                else:
                    link.context_before = stream.before(block_start, link.start)
                scan.links.append(link)
                open_links.append(link)
        elif tag == "img":
            alt = el.get("alt")
            if open_links and alt and alt.strip():
                for record in open_links:
                    if not record.img_alt:
                        record.img_alt = _collapse(alt)
        elif tag == "base":
            if scan.base_href is None and el.get("href") is not None:
                scan.base_href = el.get("href")
                scan.base_after_skip = skipped_relative
        elif tag == "meta":
            _visit_meta(el, scan)
        elif tag == "link":
            _visit_link(el, scan)
        elif tag == "title" and scan.title is None and namespace == "html":
            scan.title = _collapse("".join(el.itertext()))
        if not unrendered:  # (a script's text can be megabytes: not even read)
            text = el.text
            if text:
                stream.add(text)
        stack.append((flags, namespace, block, is_unrendered, link))
        namespace = child_ns
    stream.finish()
    return scan


def _namespace_of(el) -> str:  # noqa: ANN001
    namespace = "html"
    for node in reversed(tuple(el.iterancestors())):
        namespace = _NAMESPACE_SWITCH.get((namespace, node.tag), namespace)
    return namespace


def _nearest_block(el):  # noqa: ANN001, ANN202
    for node in el.iterancestors():
        if node.tag in _BLOCK_TAGS:
            return node
    return None


def _scan_of_interest(root, skip: _HrefSkip) -> _Scan:  # noqa: ANN001, C901
    """What _walk(root, skip) finds, for much less: the page-level elements and the links are
    picked out by lxml (in C); texts are walked only in the blocks that hold a link of
    interest, usually one or two paragraphs of a page of a thousand elements. Records of the
    skipped links carry nothing but their element (positions need every link)."""
    scan = _Scan()
    foreign = next(root.iter("svg", "math"), None) is not None
    for el in root.iter("title", "base", "meta", "link"):
        tag = el.tag
        if tag == "meta":
            _visit_meta(el, scan)
        elif tag == "link":
            _visit_link(el, scan)
        elif tag == "base":
            if scan.base_href is None:
                scan.base_href = el.get("href")
        elif scan.title is None and (not foreign or _namespace_of(el) == "html"):
            scan.title = _collapse("".join(el.itertext()))
    # A <base> anywhere: no relative link is skipped (the whole walk would have walked again).
    relative_skipped = skip.page_outside and scan.base_href is None
    wanted: dict = {}  # element of a link of interest -> its nearest block
    for el in root.iter("a", "area"):
        tag = el.tag
        href = el.get("href")
        element = tag
        if foreign and tag == "a" and _namespace_of(el) == "svg":
            element = "svg:a"
            if href is None:
                href = el.get("xlink:href")
        if href is None:
            continue
        verdict = skip.verdict(href)
        if relative_skipped if verdict is _RELATIVE else verdict is True:
            scan.links.append(_LinkRecord(el, href, "", element, hidden=False, block=0, start=0,
                                          end=0, skipped=True))
            continue
        block = _nearest_block(el)
        if block is None or block is root:
            return _walk(root, skip)  # nothing smaller than the page to walk
        wanted[el] = block
        scan.links.append(_LinkRecord(el, href, "", element, hidden=False, block=0, start=0))
    if not wanted:
        return scan
    blocks = set(wanted.values())
    roots = [b for b in blocks if not any(a in blocks for a in b.iterancestors())]
    found: dict = {}
    for block in roots:
        for record in _walk(block, skip, _Above.of(block), scan.base_href).links:
            found[record.el] = record
    scan.links = [found[r.el] if r.el in wanted else r for r in scan.links]
    return scan


def _visit_link(el, scan: _Scan) -> None:  # noqa: ANN001
    rel = el.get("rel")
    href = el.get("href")
    if rel and href and href.strip() and "canonical" in _rel_tokens(rel):
        scan.canonical_hrefs.append(href)


def _visit_meta(el, scan: _Scan) -> None:  # noqa: ANN001
    content = el.get("content")
    if content is None:
        return
    name = (el.get("name") or "").strip().lower()
    if name in ("robots", "googlebot"):
        scan.robots.append(content)
    elif scan.refresh is None and (el.get("http-equiv") or "").strip().lower() == "refresh":
        scan.refresh = content


def _rel_tokens(rel: str) -> tuple[str, ...]:
    # pages repeat a few short rel values ("nofollow noopener") on every link; long ones, which
    # only a hostile page writes, are not kept
    return _short_rel_tokens(rel) if len(rel) <= MEMO_KEY_CHARS else _split_rel(rel)


def _split_rel(rel: str) -> tuple[str, ...]:
    return _dedupe(t for t in _REL_SPLIT.split(rel.lower()) if t)


_short_rel_tokens = lru_cache(maxsize=1024)(_split_rel)


def _text_before(chunks: list[str], lo: int, hi: int) -> str:
    """The last 120 characters of collapsed text in chunks[lo:hi], not starting mid-word."""
    parts: list[str] = []
    size = checked = 0
    text = ""
    for i in range(hi - 1, lo - 1, -1):
        parts.append(chunks[i])
        size += len(chunks[i])
        if size > _CONTEXT_CHARS and size > 2 * checked:  # re-collapse only now and then
            checked = size
            text = _collapse("".join(reversed(parts)))
            if len(text) > _CONTEXT_CHARS:
                break
    else:
        text = _collapse("".join(reversed(parts)))
    if len(text) <= _CONTEXT_CHARS:
        return text
    cut = text[-_CONTEXT_CHARS:]
    if text[-_CONTEXT_CHARS - 1] != " " and " " in cut:
        cut = cut[cut.index(" ") + 1 :]  # drop the partial first word
    return cut.strip()


def _text_after(chunks: list[str], lo: int, hi: int) -> str:
    """The first 120 characters of collapsed text in chunks[lo:hi], not ending mid-word."""
    parts: list[str] = []
    size = checked = 0
    text = ""
    for i in range(lo, hi):
        parts.append(chunks[i])
        size += len(chunks[i])
        if size > _CONTEXT_CHARS and size > 2 * checked:
            checked = size
            text = _collapse("".join(parts))
            if len(text) > _CONTEXT_CHARS:
                break
    else:
        text = _collapse("".join(parts))
    if len(text) <= _CONTEXT_CHARS:
        return text
    cut = text[:_CONTEXT_CHARS]
    if text[_CONTEXT_CHARS] != " " and " " in cut:
        cut = cut[: cut.rindex(" ")]  # drop the partial last word
    return cut.strip()


def _positions(root, records: list[_LinkRecord], url: str,  # noqa: ANN001
               only: set[int] | None = None) -> list:
    anchors = [r.el for r in records]
    if not anchors:
        return []
    try:
        decisions = _position.classify_positions(root, anchors, only, page_url=url)
        if len(decisions) == len(anchors):
            return decisions
        problem = f"returned {len(decisions)} decisions for {len(anchors)} links"
    except Exception as exc:  # noqa: BLE001 - a classifier bug must not lose the page's links
        problem = f"{type(exc).__name__}: {exc}"[:200]
    log.warning("position classifier failed, links reported as body: %s", problem)
    steps: dict = {}  # element -> its path step, shared by all links (flat pages stay linear)
    return [
        _position.PositionDecision(
            Position.BODY, _fallback_path(el, steps), f"position classifier failed: {problem}"
        )
        for el in anchors
    ]


def _fallback_path(el, steps: dict) -> str:  # noqa: ANN001
    """The element path in position.py's format, for when its classifier failed."""
    parts = []
    node = el
    while node is not None:
        parent = node.getparent()
        if node not in steps and parent is not None:
            tags = [child.tag for child in parent]
            counts = Counter(t for t in tags if isinstance(t, str))
            seen: Counter = Counter()
            for child, tag in zip(parent, tags, strict=True):
                if isinstance(tag, str):
                    seen[tag] += 1
                    steps[child] = f"{tag}[{seen[tag]}]" if counts[tag] > 1 else tag
        parts.append(steps.get(node, node.tag if isinstance(node.tag, str) else ""))
        node = parent
    return "/".join(reversed(parts))


def parse_page(
    html: str | bytes,
    url: str,
    *,
    content_type: str = "text/html",
    x_robots_tag: tuple[str, ...] | list[str] = (),
    classify: Callable[[str | None], bool] | None = None,
    only_classified: bool = False,
    skip_hosts: Callable[[str], bool] | None = None,
) -> ParsedPage:
    """Parse once: every link with its position and context, plus the page-level facts.

    `x_robots_tag` is the list of raw X-Robots-Tag header values of the response.
    `classify`, if given, says which links (by resolved URL) need a position: the others get
    position.NOT_CLASSIFIED (body, empty path). The verifier asks only about links to the
    target's site, which is most of the saving on a page of a hundred links.
    `only_classified` leaves the others out of the result altogether (document order kept):
    the verifier's parse workers then send back a few links instead of a hundred.
    `skip_hosts` (with `only_classified`) is true for plain lower-case host names whose links
    are of no interest: such links are left out without resolving their URL or collecting
    their texts. It must agree with `classify`: never true for a host `classify` may keep.
    """
    url = url if isinstance(url, str) else str(url)
    content_type = content_type or ""
    if isinstance(x_robots_tag, str):
        x_robots_tag = (x_robots_tag,)
    data, charset, size = _to_utf8(html if html is not None else b"", content_type)
    root = None if not data or data.isspace() else _parse(data)
    del data  # our UTF-8 copy, if we made one
    skip = _HrefSkip(skip_hosts, url) if only_classified and skip_hosts is not None else None
    if root is None:
        scan = _Scan()
    elif skip is not None and classify is not None:  # skipped links are never in the result
        scan = _scan_of_interest(root, skip)
    else:
        scan = _walk(root, skip)
    if scan.base_after_skip:  # a late <base> changes what relative links point to
        scan = _walk(root)

    page_base = _Resolver(url).url or url
    base_url = page_base
    if scan.base_href is not None:
        base_url = resolve_href(page_base, scan.base_href) or page_base
    resolve = _Resolver(base_url)

    urls = [None if record.skipped else resolve(record.href) for record in scan.links]
    only = None if classify is None else {
        i for i, (u, record) in enumerate(zip(urls, scan.links, strict=True)) if not record.skipped and classify(u)
    }
    decisions = _positions(root, scan.links, page_base, only)
    # Free the tree before building the results: lxml keeps the whole document alive while any
    # element proxy is referenced (it is most of the memory on huge pages).
    del root
    for record in scan.links:
        record.el = None
    links = []
    for index, (record, decision, link_url) in enumerate(zip(scan.links, decisions, urls, strict=True)):
        if only_classified and only is not None and index not in only:
            continue
        rel = _rel_tokens(record.rel) if record.rel else ()
        links.append(Link(
            href=record.href,
            url=link_url,
            anchor_text=record.anchor_text,
            img_alt=record.img_alt,
            rel=rel,
            nofollow="nofollow" in rel,
            sponsored="sponsored" in rel,
            ugc="ugc" in rel,
            position=decision.position,
            hidden=record.hidden,
            context_before=record.context_before,
            context_after=record.context_after,
            path=decision.path,
            position_signal=decision.signal,
            element=record.element,
        ))

    meta_robots = meta_robots_directives(scan.robots)
    x_robots = x_robots_directives(x_robots_tag)
    directives = set(meta_robots) | set(x_robots)
    canonicals = _dedupe(c for c in map(resolve, scan.canonical_hrefs) if c is not None)
    refresh_delay = refresh_url = None
    if scan.refresh is not None:
        refresh_delay, raw_target = parse_meta_refresh(scan.refresh)
        if raw_target is not None:
            refresh_url = resolve(raw_target)
    info = PageInfo(
        title=scan.title or "",
        meta_robots=meta_robots,
        x_robots_tag=x_robots,
        noindex=bool(directives & {"noindex", "none"}),
        page_nofollow=bool(directives & {"nofollow", "none"}),
        canonical=canonicals[0] if canonicals else None,
        content_type=content_type,
        bytes=size,
        base_url=base_url,
        meta_refresh_url=refresh_url,
        meta_refresh_delay=refresh_delay,
        charset=charset,
        canonicals=canonicals,
    )
    return ParsedPage(tuple(links), info)


def extract_links(html: str | bytes, url: str) -> list[Link]:
    """Every hyperlink on the page, in document order (public API, DESIGN §3)."""
    return list(parse_page(html, url).links)
