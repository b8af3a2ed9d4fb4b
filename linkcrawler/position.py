"""Where on the page a link sits: body, header, nav, footer, sidebar or comments.

Interface used by linkcrawler.extraction: `classify_positions(root, anchors)` is called once per
page with the parsed lxml root and the link elements in document order, and returns one
decision per link, in the same order.

How a position is decided
-------------------------
1. Regions. Walking from the document root down to the link, the OUTERMOST ancestor that marks
   a page region decides: HTML5 elements (<header>, <nav>, <footer>, <aside>), ARIA landmark
   roles (banner, navigation, contentinfo, complementary, search), comment threads in the
   usual CMS markups (WordPress #comments/.comment-list/.commentlist, Disqus #disqus_thread,
   Drupal .comment-wrapper, ...) and clear id/class names in several languages. A nav inside a
   footer is therefore footer. <header>/<footer> inside <article>, <main>, <section> or <aside>
   describe that section, not the page (HTML-AAM), so they mark no region. Names that describe
   a layout rather than a region (`content-with-sidebar`, `has-sidebar`, `l-sidebar-fixed`)
   mark none either, and neither does any container holding most of the page's text: a
   region that big is a misnamed wrapper around the body.
2. Otherwise the link is body.

`path` is the element path of the link from the root, e.g. `html/body/footer/nav/ul/li[3]/a`:
local tag names (namespaces dropped, so SVG links end in `/a`) joined by `/`, each followed by
its 1-based position among its parent's element children of the same tag, in brackets, only
when the parent has more than one child of that tag. `signal` is a short human string naming
what decided, with the path of the deciding element where there is one, e.g.
`landmark <footer> at html/body/footer` or `class "comment-list" at html/body/div/ol`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from linkcrawler.enums import Position


@dataclass(frozen=True, slots=True)
class PositionDecision:
    position: Position
    path: str  # element path, e.g. html/body/footer/nav/ul/li[3]/a
    signal: str  # the deciding signal, e.g. "landmark <footer> at html/body/footer"


# --- vocabulary -------------------------------------------------------------------------------

_LANDMARK_TAGS: dict[str, Position] = {
    "header": Position.HEADER,
    "nav": Position.NAV,
    "footer": Position.FOOTER,
    "aside": Position.SIDEBAR,
}
# header/footer scoped to one of these describe that section (HTML-AAM), not the page.
_SECTIONING = frozenset({"article", "aside", "main", "nav", "section"})

_ROLES: dict[str, Position] = {
    "banner": Position.HEADER,
    "navigation": Position.NAV,
    "menu": Position.NAV,
    "menubar": Position.NAV,
    "search": Position.HEADER,
    "contentinfo": Position.FOOTER,
    "complementary": Position.SIDEBAR,
}

# Whole words of id/class names (split on - _ . : and camelCase), several languages.
_WORDS: dict[Position, frozenset[str]] = {
    Position.COMMENTS: frozenset({
        "comment", "comments", "commentlist", "commentlists", "commentarea", "comentario",
        "comentarios", "commentaires", "commentaire", "commenti", "commento", "kommentar",
        "kommentare", "komentarze", "komentar", "komentare", "reacties", "disqus",
        "respond", "комментарии",
    }),
    Position.HEADER: frozenset({
        "header", "masthead", "banner", "topbar", "kopf", "kopfzeile", "cabecera",
        "encabezado", "entete", "testata", "cabecalho", "naglowek", "topo",
    }),
    Position.NAV: frozenset({
        "nav", "navbar", "navigation", "navi", "navigace", "menu", "menubar", "megamenu",
        "topnav", "subnav", "breadcrumb", "breadcrumbs", "menue", "hauptmenu", "navegacion",
        "navegacao", "navigazione", "nawigacja", "меню",
    }),
    Position.FOOTER: frozenset({
        "footer", "colophon", "fusszeile", "fuss", "rodape", "piepagina", "pie", "piede",
        "pied", "stopka", "подвал",
    }),
    Position.SIDEBAR: frozenset({
        "sidebar", "sidebars", "aside", "widget", "widgets", "widgetarea", "rail",
        "seitenleiste", "lateral", "barralateral", "sidebarleft", "sidebarright",
        # related/recommended boxes are complementary content wherever they sit
        "related", "relatedposts", "recommended", "recommendations", "relacionados",
        "relacionadas", "correlati", "verwandte", "similaires", "powiazane",
    }),
}
_WORD_POSITION: dict[str, Position] = {w: p for p, ws in _WORDS.items() for w in ws}

# Words that make a name describe a layout or a state, not a region: `content-with-sidebar`,
# `has-sidebar`, `no-sidebar`, `l-sidebar-fixed` (SMACSS layout prefix); and names of single
# controls that merely mention a region (`comments-link`, `comment-count`, `sidebar-toggle`).
_LAYOUT_WORDS = frozenset({
    "with", "has", "no", "without", "l", "layout", "is", "show", "hide", "sans", "mit", "ohne",
    "con", "sin", "avec", "count", "counter", "number", "num", "link", "icon", "btn",
    "button", "toggle", "trigger", "open", "close",
})
# Words that say "this is the body" when they come first: `content-sidebar` is still content.
_CONTENT_WORDS = frozenset({
    "content", "main", "article", "body", "story", "entry", "post", "text", "page", "site",
    "wrapper", "wrap", "container", "inner", "outer",
})
_SPLIT_RE = re.compile(r"[\s\-_.:/]+|(?<=[a-z])(?=[A-Z])")

# A region holding this share of the page's text is a misnamed wrapper around the body.
_WRAPPER_TEXT_SHARE = 0.5

_SKIP_TEXT_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title"})


# --- element helpers --------------------------------------------------------------------------


def _local(tag: object) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].lower()


def _words(name: str) -> list[str]:
    return [w.lower() for w in _SPLIT_RE.split(name) if w]


def _name_position(name: str) -> Position | None:
    """The region one class token or id names, or None.

    A region word names the region unless the name describes a layout (`with`, `has`, `l-`)
    or is a content container mentioning a region (`content-sidebar`, `main-with-rail`).
    """
    words = _words(name)
    if not words:
        return None
    found: Position | None = None
    first_region = -1
    for i, w in enumerate(words):
        pos = _WORD_POSITION.get(w)
        if pos is None and w.startswith("comment") and w != "commentary":
            pos = Position.COMMENTS  # commentlist, commentsarea, commentform, ...
        if pos is not None and found is None:
            found, first_region = pos, i
    if found is None:
        return None
    if any(w in _LAYOUT_WORDS for w in words):
        return None
    if any(w in _CONTENT_WORDS for w in words[:first_region]) and found is Position.SIDEBAR:
        return None
    return found


@dataclass(frozen=True, slots=True)
class _Mark:
    position: Position
    signal: str  # without the location


def _region_mark(el, tag: str) -> _Mark | None:  # noqa: ANN001
    """The region this element marks by itself (element name, role, id/class), or None."""
    role = (el.get("role") or "").strip().lower()
    if role:
        for r in role.split():
            pos = _ROLES.get(r)
            if pos is not None:
                if r in ("banner", "contentinfo") and _in_section(el):
                    break
                return _Mark(pos, f'role "{r}"')
            if r == "main":
                return None  # explicitly body: nothing inside is a page region by name
    pos = _LANDMARK_TAGS.get(tag)
    if pos is not None:
        if tag in ("header", "footer") and _in_section(el):
            return None
        return _Mark(pos, f"landmark <{tag}>")
    ident = el.get("id")
    if ident:
        pos = _name_position(ident)
        if pos is not None:
            return _Mark(pos, f'id "{ident.strip()}"')
    cls = el.get("class")
    if cls:
        # comments outrank other names on one element: `comments-area widget` is a thread
        hits = [(p, c) for c in cls.split() if (p := _name_position(c)) is not None]
        if hits:
            hits.sort(key=lambda h: h[0] is not Position.COMMENTS)
            return _Mark(hits[0][0], f'class "{hits[0][1]}"')
    return None


def _in_section(el) -> bool:  # noqa: ANN001
    parent = el.getparent()
    while parent is not None:
        if _local(parent.tag) in _SECTIONING:
            return True
        parent = parent.getparent()
    return False


# --- page context -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Page:
    """Per-page caches: text lengths of elements and sibling indexes for paths."""

    text_len: dict
    body_text: int
    index_of: dict
    path_of: dict


def _measure(root) -> _Page:  # noqa: ANN001
    """Visible text length of every element, in one bottom-up pass."""
    order = [el for el in root.iter() if isinstance(el.tag, str)]
    text_len: dict = {}
    for el in reversed(order):
        tag = _local(el.tag)
        own = 0 if tag in _SKIP_TEXT_TAGS else len((el.text or "").strip())
        total = text_len.get(el, 0) + own if tag not in _SKIP_TEXT_TAGS else 0
        text_len[el] = total
        parent = el.getparent()
        if parent is not None:
            text_len[parent] = text_len.get(parent, 0) + total + len((el.tail or "").strip())
    body = next((el for el in order if _local(el.tag) == "body"), root)
    return _Page(text_len=text_len, body_text=text_len.get(body, 0), index_of={}, path_of={})


def _step(el, page: _Page) -> str:  # noqa: ANN001
    tag = _local(el.tag)
    parent = el.getparent()
    if parent is None:
        return tag
    indexes = page.index_of.get(parent)
    if indexes is None:
        indexes = {}
        counts: dict[str, int] = {}
        for child in parent:
            if isinstance(child.tag, str):
                t = _local(child.tag)
                counts[t] = counts.get(t, 0) + 1
                indexes[child] = (t, counts[t])
        for child, (t, n) in list(indexes.items()):
            indexes[child] = n if counts[t] > 1 else 0
        page.index_of[parent] = indexes
    n = indexes.get(el, 0)
    return f"{tag}[{n}]" if n else tag


def element_path(el, page: _Page | None = None) -> str:  # noqa: ANN001
    """`html/body/div[2]/a`: see the module docstring for the format."""
    page = page or _Page({}, 0, {}, {})
    cached = page.path_of.get(el)
    if cached is not None:
        return cached
    parent = el.getparent()
    step = _step(el, page)
    path = step if parent is None else f"{element_path(parent, page)}/{step}"
    page.path_of[el] = path
    return path


def _ancestors_outermost_first(el) -> list:  # noqa: ANN001
    chain = []
    parent = el.getparent()
    while parent is not None:
        chain.append(parent)
        parent = parent.getparent()
    chain.reverse()
    return chain


def _region(anchor, page: _Page) -> tuple[Position, str, object] | None:  # noqa: ANN001
    """The outermost region mark above the link: (position, signal, element)."""
    for el in _ancestors_outermost_first(anchor):
        tag = _local(el.tag)
        if tag in ("html", "body"):
            continue  # body classes describe the page template, not a region
        mark = _region_mark(el, tag)
        if mark is None:
            continue
        if (
            not mark.signal.startswith(("landmark", "role"))
            and mark.position is not Position.COMMENTS
            and page.body_text
            and page.text_len.get(el, 0) >= _WRAPPER_TEXT_SHARE * page.body_text
        ):
            continue  # holds most of the page's text: a wrapper named after a region
        return mark.position, mark.signal, el
    return None


def classify_positions(root, anchors: Sequence | Iterable) -> list[PositionDecision]:  # noqa: ANN001
    """One decision per link element in `anchors`, in the same order (see module docstring)."""
    page = _measure(root)
    out: list[PositionDecision] = []
    for a in anchors:
        path = element_path(a, page)
        found = _region(a, page)
        if found is None:
            out.append(PositionDecision(Position.BODY, path, "no region container (default body)"))
            continue
        pos, signal, el = found
        out.append(PositionDecision(pos, path, f"{signal} at {element_path(el, page)}"))
    return out
