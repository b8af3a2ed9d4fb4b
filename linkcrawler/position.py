"""Where on the page a link sits: body, header, nav, footer, sidebar or comments.

Interface used by linkcrawler.extraction: `classify_positions(root, anchors, page_url=url)` is
called once per page with the parsed lxml root, the link elements in document order and the
page's URL, and returns one decision per link, in the same order.

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
   mark none either, and neither does a name (not a comment thread) on a container holding
   half the page's text or holding the main text block of step 2: such a region is a misnamed
   wrapper around the body (`theiaStickySidebar`, `pg-rail-tall__wrapper`).
2. Comment threads always win, and so does a landmark or ARIA region (HTML5 element or role)
   unless it holds half the page's text (see _region_decides); below none of those, an embedded
   social post (the <blockquote> of a tweet, an Instagram or TikTok post, ...; see
   _EMBEDDED_POSTS) is sidebar. Elsewhere, including regions named only by id/class, a learned
   model (gradient-boosted trees shipped as JSON in linkcrawler/models/position.json, trained by
   bench/train_position.py) judges body versus boilerplate from signals that hold on any site:
   link density and plain text of the link's block, text around the link, whether an absolute
   link leaves the page's site (the registrable domain of its canonical link or og:url, else of
   the URL it was fetched from), being inside <p>/<li>/headings, id/class vocabulary of the
   ancestors weighted by distance (several languages), the regions of step 1, repeated sibling
   structures, the main text block of the page (paragraph text credited to parent and
   grandparent, discounted by link density; never inside a comment thread, which may hold more
   text than the article), and the share of the page's paragraph text before and after the link's
   block (a list between paragraphs belongs to the text; one after the last paragraph, or before
   the first, usually does not). A link whose nearest block is a <p>, <li>, table cell or
   <blockquote> inside the main text block (or beside it, under the same parent unless the main
   text block is a table cell, whose row's other cells are the page's other columns; or in the
   text region: the block's ancestor that also holds the other chunks of an article split by ads
   and boxes, see _text_region), outside any region, with at least 20 characters of text that
   is not link text and link density <= 0.3 is body unless, in a <p> or anywhere in the text
   region outside the block's parent, the model is nearly certain it is not (running text;
   P(body) < 0.05 overrules it). When that block is the main text block or holds it (a layout
   table's cell holding the article), its measures are the article's, so the link also needs
   words on both sides; if the block is a cell, the model's body call needs them too. A link
   that would be body but whose block is a short legal notice (privacy policy,
   terms of use, a copyright line; at most 300 characters; see _LEGAL_PHRASES), or whose whole
   anchor is such a phrase ("Privacy Policy"), is footer; one in a list of at least 3 items that
   are each just a link, inside the main text block with at most a tenth of the page's paragraph
   text after it (the headlines closing a story), is placed as boilerplate. When no link of the
   page is body as running text and the model calls at most two links body, each with P(body) <
   0.9, those are placed as boilerplate too: no body link is invented on a page whose article has
   none (see _LONE_BODY_LINKS). A link the model calls boilerplate takes the region of step 1;
   without one, the nearest region name above it, else where it sits relative to the main text
   block (a box inside it, in the text region or in another column of its layout table:
   sidebar; before it: nav or header; after it: footer).
3. Without the model file, step 1 alone decides (embedded posts are sidebar as in step 2) and
   everything else is body, except links in a short legal notice or anchored by a legal phrase
   (footer) and in a list closing the main text (as in step 2).
4. Huge pages (more than MAX_MODEL_LINKS links or MAX_MODEL_ELEMENTS elements) take a bounded
   path in one streaming walk: step 1 (embedded posts counted among its regions, so an outer
   landmark wins there), then the running-text rule (legal notices excepted),
   else boilerplate placed as in step 2; no model (see _classify_bounded). Signals there end in
   `bounded path (N links)`.

`path` is the element path of the link from the root, e.g. `html/body/footer/nav/ul/li[3]/a`:
local tag names (namespaces dropped, so SVG links end in `/a`) joined by `/`, each followed by
its 1-based position among its parent's element children of the same tag, in brackets, only
when the parent has more than one child of that tag. `signal` is a short human string naming
what decided, with the path of the deciding element where there is one, e.g.
`landmark <footer> at html/body/footer` or `class "comment-list" at html/body/div/ol`.
"""

from __future__ import annotations

import json
import math
import re
from array import array
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import islice
from operator import attrgetter
from pathlib import Path

from lxml import etree

from linkcrawler.enums import Position
from linkcrawler.memo import remember
from linkcrawler.urls import registrable_domain


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

# Embedded posts: the markup a social network gives for embedding a post is a <blockquote> of
# this class holding the post's text and links, which the network's script replaces with its
# own <iframe> when the page runs. A search engine that renders the page finds no link there,
# and the links are the post's author's, not the page's editorial ones: such a link is a box
# within the text (sidebar) whatever the model says, unless a region above it decides (see
# _embed_above; the model's features do not know embeds). The labelled sets disagree (shared/eval
# counts a tweet's text in the article, newspaper4k and ir-research-data do not): see
# bench/README.md, "Embedded posts".
_EMBEDDED_POSTS = frozenset({
    "twitter-tweet", "twitter-video", "instagram-media", "tiktok-embed", "reddit-embed-bq",
    "reddit-card", "fb-xfbml-parse-ignore", "bluesky-embed", "mastodon-embed", "text-post-media",
})

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
# Words starting like "comment" that name no thread: a state of the post (`post commented`,
# seen on <article> elements that hold the whole story) or an opinion piece and its author.
_NOT_THREAD_WORDS = frozenset({
    "commented", "commentary", "commentaries", "commentator", "commentators",
})

# Words that make a name describe a layout or a state, not a region: `content-with-sidebar`,
# `has-sidebar`, `no-sidebar`, `l-sidebar-fixed` (SMACSS layout prefix); names of single
# controls that merely mention a region (`comments-link`, `comment-count`, `sidebar-toggle`);
# and the tone of a story (`tonal--tone-comment` on the whole of an opinion piece).
_LAYOUT_WORDS = frozenset({
    "with", "has", "no", "without", "l", "layout", "is", "show", "hide", "sans", "mit", "ohne",
    "con", "sin", "avec", "count", "counter", "number", "num", "link", "icon", "btn",
    "button", "toggle", "trigger", "open", "close", "tone",
})
# Words that say "this is the body" when they come first: `content-sidebar` is still content.
_CONTENT_WORDS = frozenset({
    "content", "main", "article", "body", "story", "entry", "post", "text", "page", "site",
    "wrapper", "wrap", "container", "inner", "outer",
})
_SPLIT_RE = re.compile(r"[\s\-_.:/]+|(?<=[a-z])(?=[A-Z])")
_SEP_RE = re.compile(r"[\s\-_.:/]+")

# A region holding this share of the page's text is a misnamed wrapper around the body.
_WRAPPER_TEXT_SHARE = 0.5

_SKIP_TEXT_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title"})


# --- element helpers --------------------------------------------------------------------------


_LOCAL_CACHE: dict[str, str] = {}
_TAG_OF = attrgetter("tag")
_PARENT_OF = etree._Element.getparent  # noqa: SLF001


def _local(tag: object) -> str:
    local = _LOCAL_CACHE.get(tag)  # type: ignore[arg-type]
    if local is None:
        if not isinstance(tag, str):
            return ""
        local = tag.rsplit("}", 1)[-1].lower()
        remember(_LOCAL_CACHE, tag, local, len(tag))
    return local


def _words(name: str) -> list[str]:
    if name.islower():  # the common case needs no camelCase split
        return [w for w in _SEP_RE.split(name) if w]
    return [w.lower() for w in _SPLIT_RE.split(name) if w]


_NAME_CACHE: dict[str, Position | None] = {}


def _name_position(name: str) -> Position | None:
    """Memoised _name_position_uncached (class names repeat within and across pages)."""
    if name in _NAME_CACHE:
        return _NAME_CACHE[name]
    pos = _name_position_uncached(name)
    remember(_NAME_CACHE, name, pos, len(name))
    return pos


def _name_position_uncached(name: str) -> Position | None:
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
        if pos is None and w.startswith("comment") and w not in _NOT_THREAD_WORDS:
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


def _region_mark(el, tag: str, in_section: bool) -> _Mark | None:  # noqa: ANN001
    """The region this element marks by itself (element name, role, id/class), or None.

    `in_section`: the element is inside <article>/<aside>/<main>/<nav>/<section>.
    """
    role = (el.get("role") or "").strip().lower()
    if role:
        for r in role.split():
            pos = _ROLES.get(r)
            if pos is not None:
                if r in ("banner", "contentinfo") and in_section:
                    break
                return _Mark(pos, f'role "{r}"')
            if r == "main":
                return None  # explicitly body: nothing inside is a page region by name
    pos = _LANDMARK_TAGS.get(tag)
    if pos is not None:
        if tag in ("header", "footer") and in_section:
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


def _embedded_post(el) -> str | None:  # noqa: ANN001
    """The signal of a <blockquote> that is an embedded post (see _EMBEDDED_POSTS), without its
    location, e.g. `embedded post (class "twitter-tweet")`; None for any other."""
    for c in (el.get("class") or "").split():
        if c.lower() in _EMBEDDED_POSTS:
            return f'embedded post (class "{c}")'
    return None


# --- page analysis ----------------------------------------------------------------------------
#
# One bottom-up pass measures every element (visible text, link text, paragraph text), one
# top-down pass gives text offsets; the main text block is the element whose paragraphs score
# highest (paragraph text credited to parent and grandparent, discounted by link density).

_BLOCK_TAGS = frozenset({
    "p", "div", "li", "td", "th", "dd", "dt", "section", "article", "main", "aside", "header",
    "footer", "nav", "ul", "ol", "dl", "table", "tr", "tbody", "blockquote", "figure",
    "figcaption", "h1", "h2", "h3", "h4", "h5", "h6", "form", "body", "pre", "address",
    "details", "summary", "center", "fieldset", "menu",
})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_INLINE_WRAPPERS = frozenset({"strong", "b", "em", "i", "u", "span", "font", "small", "mark"})
_PARA_TAGS = frozenset({"p", "pre"})
_PARA_MIN = 30  # shorter paragraphs are captions, labels or buttons
_DIRECT_TEXT_PARA = 80  # a div with this much text of its own is a paragraph without <p>
_LINK_TAGS = frozenset({"a", "area"})


@dataclass(slots=True)
class _Page:
    """Measurements of one page. Mutable only while it is being built and in its memos (paths,
    regions, inherited marks, element stats, parent parts)."""

    # Per-element measurements are lists by element number (document order, `index`); the
    # last entry of each list is the value for an element that was not measured.
    index: dict  # element -> its number
    text_len: list
    link_len: list
    para_len: list  # text in paragraphs (low link density) below the element
    offset: list  # visible text before the element's start
    total_text: int
    total_para: int
    total_links: int
    top: object  # the main text block, or None
    top_start: int
    top_end: int
    index_of: dict
    path_of: dict
    region_of: dict  # element -> (outermost region at or above it, inside a section)
    link_count: list  # number of links below the element
    inherit: list  # element number -> what it inherits from its ancestors (see _inherited)
    stats_of: list  # element number -> _element_stats, None until asked for
    constants: dict  # page-level features, the same for every link
    child_tags: list  # {tag: number of element children with it}; None: none, or not counted
    # yet (see _kids)
    parent_parts: dict  # element -> _ParentPart of the links directly below it
    rank_from_end: list  # rank among its same-tag siblings, the last one being 1 (root: 0)
    order: list  # the measured elements, by number
    tags: list  # their local tag names ("" for an element not measured)
    parent_of: list  # the number of the parent, -1 for none (or not measured)
    site: str = ""  # the page's own host (canonical or og:url), without www.; "" if unknown
    para_offset: list = field(default_factory=lambda: [0])  # paragraph text before its start
    top_chain: set = field(default_factory=set)  # the main text block and its ancestors
    top_is_cell: bool = False  # the main text block is a table cell (see _LAYOUT_COLUMNS)
    # the main text block's ancestor holding the rest of an article split into chunks, or None
    # (see _text_region)
    text_region: object = None
    # the page's embedded posts, each with its signal (see _EMBEDDED_POSTS)
    embeds: dict = field(default_factory=dict)
    # a feature row (see _ZERO_ROW) with `constants` filled in
    base_row: array = field(default_factory=lambda: array("d"))


def _measure(root, nodes: list | None = None, all_links: bool = True,  # noqa: ANN001
             page_url: str = "") -> _Page:
    """`root`: the document's root element (nothing above it is measured). `nodes`:
    list(root.iter()), when the caller has it already. `all_links`: most links will be
    classified, so count every element's children here (their tags give the link paths and the
    repeated siblings); else _kids counts them for the few parents asked about."""
    order = list(root.iter()) if nodes is None else nodes
    tags = list(map(_LOCAL_CACHE.get, map(_TAG_OF, order)))  # map(): no bytecode per element
    if None in tags:
        tags = [tag if tag is not None else _local(el.tag)
                for el, tag in zip(order, tags, strict=True)]
    if "" in tags:  # comments, processing instructions, entities: elements only
        order = [el for el, tag in zip(order, tags, strict=True) if tag]
        tags = [tag for tag in tags if tag]
    n = len(order)
    # Per-element measurements live in lists by element number (document order): list
    # indexing is far cheaper than dicts keyed by element proxies. _Page keeps the lists.
    index = dict(zip(order, range(n)))
    get = index.get
    parents = [get(up, -1) for up in map(_PARENT_OF, order)]  # -1: no parent measured
    text = [0] * n
    links = [0] * n
    para = [0] * n
    direct = [0] * n
    owns = [0] * n  # the element's own text (0 in script, style, ...)
    tails = [0] * n
    count = [0] * n
    kids: list = [None] * n  # element number -> {tag: number of element children with it}
    rank = [0] * n  # rank among same-tag siblings, the last one being 1
    score: dict = {}  # element index -> main-text-block score
    skip_tags, link_tags, para_tags = _SKIP_TEXT_TAGS, _LINK_TAGS, _PARA_TAGS
    for i in range(n - 1, -1, -1):
        tag = tags[i]
        el = order[i]
        p = parents[i]
        is_link = tag in link_tags
        if tag in skip_tags:
            total = lk = pa = 0
            text[i] = links[i] = para[i] = 0
        else:
            t = el.text
            own = owns[i] = len(t.strip()) if t else 0
            total = text[i] + own
            lk = total if is_link else links[i]
            pa = para[i]
            if total >= _PARA_MIN and lk < 0.5 * total and (
                tag in para_tags or (direct[i] + own >= _DIRECT_TEXT_PARA and not is_link)
            ):
                pa = total  # nested paragraphs are not counted twice
                if p >= 0:
                    unit = 1.0 + min(total / 100.0, 3.0)
                    score[p] = score.get(p, 0.0) + unit
                    g = parents[p]
                    if g >= 0:
                        score[g] = score.get(g, 0.0) + unit / 2
            text[i], links[i], para[i] = total, lk, pa
        c = count[i] + is_link
        count[i] = c
        if p >= 0:
            if all_links:
                counts = kids[p]
                if counts is None:
                    counts = kids[p] = {}
                rank[i] = counts[tag] = counts.get(tag, 0) + 1
            count[p] += c
            t = el.tail
            tail = tails[i] = len(t.strip()) if t else 0
            text[p] += total + tail
            links[p] += lk
            para[p] += pa
            direct[p] += tail
    # visible text and paragraph text before each element's start (parents come first)
    offset = [0] * n
    para_offset = [0] * n
    run = [0] * n  # text before the end of the element's children seen so far
    para_run = [0] * n
    for i, p in enumerate(parents):
        if p < 0:
            run[i] = owns[i]
            continue
        o = offset[i] = run[p]
        po = para_offset[i] = para_run[p]
        run[p] = o + text[i] + tails[i]
        para_run[p] = po + para[i]
        run[i] = o + owns[i]
        para_run[i] = po
    body = next((i for i, tag in enumerate(tags) if tag == "body"), 0)
    candidates = []
    numbered = []
    for i, s in score.items():
        t = text[i]
        s *= 1.0 - (links[i] / t if t else 0.0)
        if s > 0:
            candidates.append((s, order[i]))
            numbered.append((s, i))
    top = _main_text_block(candidates)
    region = None
    chain = []  # the main text block's ancestors, nearest first
    if top is not None:
        t = index[top]
        up = parents[t]
        while up >= 0:
            chain.append(up)
            up = parents[up]
        distance = {a: d for d, a in enumerate(chain, 1)}

        def meet(i: int) -> int | None:
            if i == t or i in distance or tags[i] in _LIST_TAGS:
                return None
            up = parents[i]
            while up >= 0 and up != t and up not in distance:
                up = parents[up]
            if up < 0 or up == t or _in_comment_thread(order[i]):
                return None
            return distance[up]

        d = _text_region(numbered, next(s for s, i in numbered if i == t), meet,
                         [tags[a] for a in chain])
        region = chain[d - 1] if d is not None else None
    for values, missing in ((text, 0), (links, 0), (para, 0), (count, 0), (kids, None),
                            (rank, 0), (offset, 0), (para_offset, 0), (parents, -1), (tags, "")):
        values.append(missing)  # the entry for elements not measured (number -1)
    page = _Page(
        index=index, text_len=text, link_len=links, para_len=para, offset=offset,
        total_text=text[body], total_para=para[body], total_links=links[body], top=top,
        top_start=0, top_end=0, index_of={}, path_of={}, region_of={},
        link_count=count, inherit=[None] * (n + 1), stats_of=[None] * (n + 1), constants={},
        child_tags=kids,
        parent_parts={}, rank_from_end=rank, order=order, tags=tags, parent_of=parents,
        para_offset=para_offset,
    )
    if top is not None:
        t = index[top]
        page.top_start = offset[t]
        page.top_end = page.top_start + text[t]
        page.top_chain = set(map(order.__getitem__, chain))
        page.top_chain.add(top)
        page.top_is_cell = tags[t] in _CELL_TAGS
        page.text_region = order[region] if region is not None else None
    page.site = _page_site(root, page_url)
    if "blockquote" in tags:  # (tags ends in the entry for elements not measured)
        page.embeds = {el: signal for el, tag in zip(order, tags[:n], strict=True)
                       if tag == "blockquote" and (signal := _embedded_post(el)) is not None}
    total = page.total_text
    page.constants["page_link_density"] = page.total_links / total if total else 1.0
    if top is not None:
        tt = text[t]
        page.constants["top_link_density"] = links[t] / tt if tt else 1.0
        page.constants["top_para_share"] = para[t] / (page.total_para or 1)
    page.base_row = _ZERO_ROW[:]
    for name, value in page.constants.items():
        page.base_row[_FI[name]] = value
    return page


# A text region: sites that put ads, product cards or "related" boxes between the paragraphs of
# an article often split it into sibling chunks (wired.com's buying guides, eonline, buzzfeed),
# and the main text block is only the strongest chunk. As Readability does when other
# candidates score close to its top one, the region is the lowest ancestor of the main text
# block that also holds at least _REGION_CHUNKS other candidates scoring at least _REGION_SHARE
# of it. Running text there is body as in the main text block. A list is never a chunk nor a
# region: a <ul> of whole stories is an infinite-scroll river, and headline lists with
# summaries score like paragraphs. Chosen by looking at all four labelled sets, see
# bench/README.md, "Articles split into chunks".
_REGION_SHARE = 0.5
_REGION_CHUNKS = 2
_LIST_TAGS = frozenset({"ul", "ol"})


def _text_region(candidates: Iterable, top_score: float, meet: Callable,
                 chain_tags: Sequence[str]) -> int | None:
    """How far above the main text block its text region is (see above), or None for none.
    `candidates`: (score, node) of main-text-block candidates; `meet(node)`: how far above the
    main text block is its lowest ancestor that holds the node, or None for the block itself,
    its ancestors and descendants, lists and comment threads; `chain_tags[d - 1]`: the tag of
    the block's ancestor d levels up. The full path's nodes are element numbers, the bounded
    path's are element ordinals (it keeps no element, only its place)."""
    floor = _REGION_SHARE * top_score
    meets = sorted(d for score, node in candidates
                   if score >= floor and (d := meet(node)) is not None)
    if len(meets) < _REGION_CHUNKS:
        return None
    d = meets[_REGION_CHUNKS - 1]
    return None if chain_tags[d - 1] in _LIST_TAGS or chain_tags[d - 1] in ("body", "html") else d


def _in_text_region(block, page: _Page) -> bool:  # noqa: ANN001
    region = page.text_region
    return region is not None and any(up is region for up in block.iterancestors())


def _main_text_block(candidates: list):  # noqa: ANN202
    """The highest-scoring (score, element) candidate outside comment threads, or None: a long
    discussion can outweigh a short article, and it is never the article."""
    if not candidates:
        return None
    best = max(candidates, key=lambda c: c[0])[1]  # of equals the first, as ever
    if not _in_comment_thread(best):
        return best
    candidates = [c for c in candidates if not _in_comment_thread(c[1])]
    return max(candidates, key=lambda c: c[0])[1] if candidates else None


def _in_comment_thread(el) -> bool:  # noqa: ANN001
    """Whether `el` or an ancestor (below <body>) is marked as a comment thread."""
    for node in (el, *el.iterancestors()):
        tag = _local(node.tag)
        if tag in ("html", "body"):
            return False
        mark = _region_mark(node, tag, False)
        if mark is not None and mark.position is Position.COMMENTS:
            return True
    return False


def _host(url: str) -> str:
    """Lowercase host of an absolute or scheme-relative URL, without `www.` and port."""
    rest = url.split("//", 1)[1] if "//" in url[:8] else ""
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1]
    # an IPv6 literal keeps its colons: only a port follows its closing bracket
    host = (host.split("]", 1)[0] + "]" if host.startswith("[") else host.split(":", 1)[0]).lower()
    return host[4:] if host.startswith("www.") else host


def _site(host: str) -> str:
    """The registrable domain of a host (`news.bbc.co.uk` -> `bbc.co.uk`), else the host itself
    (an IP address, `localhost`): a link to a sister subdomain does not leave the site.
    linkcrawler.urls memoises the lookup (about 0.5 µs a link)."""
    return registrable_domain(host) or host


def _page_site(root, page_url: str = "") -> str:  # noqa: ANN001
    """The page's own site: as the page states it in <head> (canonical link, else og:url), else
    from the URL it was fetched from. Pages older than canonical links (most before ~2010)
    state none, and without the URL every absolute link on them would be of unknown site."""
    host = ""
    head = root.find("head")
    if head is not None:
        og = ""
        for el in head.iterchildren("link", "meta"):
            if el.tag == "link":
                if "canonical" in (el.get("rel") or "").lower().split():
                    host = _host((el.get("href") or "").strip())
                    if host:
                        break
            elif not og and el.get("property") == "og:url":
                og = _host((el.get("content") or "").strip())
        host = host or og
    host = host or _host(page_url.strip())
    return _site(host) if host else ""


def _other_site(href: str, site: str) -> float:
    """1 when an absolute link leaves the page's site, 0 when it stays, 0.5 when unknown."""
    if not site:
        return 0.5
    host = _host(href)
    if not host:
        return 0.5
    return 0.0 if _site(host) == site else 1.0


def _kids(parent, p: int, page: _Page) -> dict:  # noqa: ANN001
    """{tag: number of element children} of measured element number `p` when _measure did not
    count them; fills in the children's ranks among their same-tag siblings on the way."""
    counts: dict[str, int] = {}
    seen = []
    for child in parent.iterchildren(etree.Element):
        t = _local(child.tag)
        counts[t] = counts.get(t, 0) + 1
        seen.append((child, t))
    index, rank = page.index, page.rank_from_end
    left = dict(counts)
    for child, t in seen:
        rank[index[child]] = left[t]  # (counted from the end)
        left[t] -= 1
    page.child_tags[p] = counts
    return counts


def _step(el, page: _Page) -> str:  # noqa: ANN001
    tag = _local(el.tag)
    parent = el.getparent()
    if parent is None:
        return tag
    p = page.index.get(parent, -1)
    counts = page.child_tags[p] if p < 0 else page.child_tags[p] or _kids(parent, p, page)
    rank = page.rank_from_end[page.index.get(el, -1)]
    if counts is not None and rank:  # measured by _measure
        same = counts.get(tag, 0)
        return f"{tag}[{same - rank + 1}]" if same > 1 else tag
    indexes = page.index_of.get(parent)
    if indexes is None:
        counts: dict[str, int] = {}
        seen: list[tuple[object, str, int]] = []
        for child in parent:
            t = _local(child.tag)
            if t:
                n = counts[t] = counts.get(t, 0) + 1
                seen.append((child, t, n))
        indexes = {child: (n if counts[t] > 1 else 0) for child, t, n in seen}
        page.index_of[parent] = indexes
    n = indexes.get(el, 0)
    return f"{tag}[{n}]" if n else tag


def element_path(el, page: _Page | None = None) -> str:  # noqa: ANN001
    """`html/body/div[2]/a`: see the module docstring for the format."""
    cache_page = page or _Page(
        index={}, text_len=[0], link_len=[0], para_len=[0], offset=[0], total_text=0,
        total_para=0, total_links=0, top=None, top_start=0, top_end=0, index_of={}, path_of={},
        region_of={}, link_count=[0], inherit=[None], stats_of=[None], constants={},
        child_tags=[None],
        parent_parts={}, rank_from_end=[0], order=[], tags=[""], parent_of=[-1])
    path_of = cache_page.path_of
    pending = []
    node = el
    path = ""
    while node is not None:
        cached = path_of.get(node)
        if cached is not None:
            path = cached
            break
        pending.append(node)
        node = node.getparent()
    for node in reversed(pending):  # every ancestor's path is cached: links share them
        step = _step(node, cache_page)
        path = f"{path}/{step}" if path else step
        path_of[node] = path
    return path


# --- id/class vocabulary for the learned model ------------------------------------------------
#
# Categories of names, matched on the words of id, class, itemprop and role (split like above).
# A word belongs to a category when it equals one of its words or starts with one of its stems.

_VOCAB: tuple[tuple[str, frozenset[str], tuple[str, ...]], ...] = (
    ("header", _WORDS[Position.HEADER], ("header", "masthead")),
    ("nav", _WORDS[Position.NAV], ("navbar", "navigation", "menu", "breadcrumb")),
    ("footer", _WORDS[Position.FOOTER], ("footer",)),
    ("sidebar", _WORDS[Position.SIDEBAR] - {"related", "recommended", "recommendations"},
     ("sidebar", "widget")),
    ("comments", _WORDS[Position.COMMENTS], ("comment", "disqus", "kommentar", "comentario")),
    ("related", frozenset({
        "related", "recommended", "recommendations", "more", "popular", "trending", "teaser",
        "teasers", "also", "readmore", "mostread", "most", "next", "prev", "previous",
        "similar", "latest", "recent", "relacionados", "mehr", "weitere", "lire", "leia",
        "outbrain", "taboola", "feed", "list", "cards", "card", "grid", "tile", "tiles",
    }), ("related", "recommend", "trending", "popular", "outbrain", "taboola")),
    ("social", frozenset({
        "share", "sharing", "social", "facebook", "twitter", "whatsapp", "pinterest",
        "linkedin", "follow", "newsletter", "subscribe", "subscription", "signup", "email",
        "print", "tools", "toolbar", "actions",
    }), ("share", "social", "newsletter", "subscri")),
    ("ad", frozenset({
        "ad", "ads", "adv", "advert", "advertisement", "sponsor", "sponsored", "promo",
        "promoted", "partner", "affiliate", "dfp", "gpt", "banner", "commercial", "anzeige",
        "publicidad", "publicite", "pub",
    }), ("advert", "sponsor", "promo", "adslot", "adunit")),
    ("meta", frozenset({
        "author", "authors", "byline", "meta", "date", "time", "tags", "tag", "category",
        "categories", "topics", "topic", "keywords", "credit", "credits", "caption", "label",
        "kicker", "source", "bio", "autor", "auteur", "autore", "schlagworte", "etiquetas",
    }), ("byline", "author", "categor", "keyword")),
    ("content", frozenset({
        "content", "article", "body", "story", "entry", "post", "text", "prose", "richtext",
        "main", "artikel", "articulo", "texto", "corpo", "testo", "contenu", "inhalt",
        "contenido", "conteudo", "contenuto", "paragraph", "copy", "blog", "news", "detail",
    }), ("articlebody", "storybody", "entrycontent", "postcontent", "articletext",
         "storytext", "bodytext", "richtext", "paragraph")),
)
_VOCAB_NAMES = tuple(name for name, _, _ in _VOCAB)


_CATEGORY_CACHE: dict[str, frozenset[str]] = {}


_EXACT_CATEGORIES: dict[str, frozenset[str]] = {}
for _name, _exact, _stems in _VOCAB:
    for _w in _exact:
        _EXACT_CATEGORIES[_w] = _EXACT_CATEGORIES.get(_w, frozenset()) | {_name}
_STEM_RE = re.compile("|".join(
    f"(?P<{name}>{'|'.join(map(re.escape, stems))})" for name, _, stems in _VOCAB
))
_NO_CATEGORY: frozenset[str] = frozenset()


def _word_categories(w: str) -> frozenset[str]:
    cats = _CATEGORY_CACHE.get(w)
    if cats is None:
        cats = _EXACT_CATEGORIES.get(w, _NO_CATEGORY)
        m = _STEM_RE.match(w)
        if m is not None:
            cats = cats | {m.lastgroup}
        remember(_CATEGORY_CACHE, w, cats, len(w))
    return cats


_NamesInfo = tuple[frozenset[str], tuple[Position, str] | None]
_NAMES_CACHE: dict[tuple, _NamesInfo] = {}
_NO_NAMES: _NamesInfo = (_NO_CATEGORY, None)


_TOKEN_CACHE: dict[str, tuple[frozenset[str], Position | None]] = {}


def _token_info(name: str) -> tuple[frozenset[str], Position | None]:
    """(vocabulary categories, region named) of one id/class/itemprop/role token, memoised."""
    cats = _NO_CATEGORY
    for w in _words(name):
        c = _word_categories(w)
        if c:
            cats = cats | c
    info = (cats, _name_position(name))
    remember(_TOKEN_CACHE, name, info, len(name))
    return info


def _names_info(el) -> _NamesInfo:  # noqa: ANN001
    """(vocabulary categories of id/class/itemprop/role, region name hit of id/class).

    Memoised on the attribute values: templates repeat the same class strings on every page.
    """
    key = (el.get("id"), el.get("class"), el.get("itemprop"), el.get("role"))
    if key == (None, None, None, None):
        return _NO_NAMES
    info = _NAMES_CACHE.get(key)
    if info is None:
        # token by token (tokens repeat far more than whole attribute values); the words of
        # the joined values are the words of the tokens, so the categories are the same
        cats = _NO_CATEGORY
        hit = None
        for attr, value in zip(("id", "class", "itemprop", "role"), key, strict=True):
            if not value:
                continue
            for name in value.split():
                token = _TOKEN_CACHE.get(name)
                if token is None:
                    token = _token_info(name)
                if token[0]:
                    cats = cats | token[0]
                if hit is None and token[1] is not None and attr in ("id", "class"):
                    hit = (token[1], f'{attr} "{name}"')
        info = (cats, hit)
        remember(_NAMES_CACHE, key, info, sum(len(v) for v in key if v))
    return info


# --- features ---------------------------------------------------------------------------------

# substrings of a lowercased href that mark a share or print button (plain `in` tests: a regex
# alternation scanned every href at every position, ~6% of the classifier's time)
_SHARE_HREF_PARTS = ("share", "intent/tweet", "whatsapp:", "pinterest.com/pin", "mailto:?",
                     "/print")
_DISTANCES = (1, 2, 3, 4, 6, 8)
_MAX_DISTANCE = max(_DISTANCES)
_CONTAINERS = (
    ("p", frozenset({"p"})),
    ("li", frozenset({"li"})),
    ("heading", _HEADINGS),
    ("table", frozenset({"table"})),
    ("form", frozenset({"form", "button", "select"})),
    ("figure", frozenset({"figure", "figcaption"})),
    ("blockquote", frozenset({"blockquote"})),
    ("article", frozenset({"article"})),
    ("main", frozenset({"main"})),
    ("header_el", frozenset({"header"})),
    ("footer_el", frozenset({"footer"})),
    ("nav_el", frozenset({"nav"})),
    ("aside_el", frozenset({"aside"})),
    ("inline", _INLINE_WRAPPERS),
)
_RULE_POSITIONS = (Position.HEADER, Position.NAV, Position.FOOTER, Position.SIDEBAR,
                   Position.COMMENTS)

FEATURE_NAMES: tuple[str, ...] = (
    "anchor_len", "anchor_words", "has_img", "href_fragment", "href_script", "href_mailto",
    "href_absolute", "href_share", "href_other_site", "before_len", "after_len", "after_lower",
    "blk_p", "blk_li", "blk_div", "blk_cell", "blk_heading", "blk_quote",
    "blk_text", "blk_plain", "blk_link_density", "blk_links", "blk_para",
    *(f"in_{name}" for name, _ in _CONTAINERS),
    *(f"name_{name}" for name in _VOCAB_NAMES),
    "itemprop_body",
    *(f"rule_{p.value}" for p in _RULE_POSITIONS),
    "rule_landmark", "rule_role", "rule_name",
    *(f"anc{d}_{m}" for d in _DISTANCES for m in ("para_share", "para_density", "link_density")),
    "in_top", "in_top_parent", "before_top", "after_top", "top_link_density", "top_para_share",
    "para_before", "para_after",
    "list_items", "list_link_density", "repeat_siblings",
    "depth",
    "page_link_density",
)
_ZERO_FEATURES = dict.fromkeys(FEATURE_NAMES, 0.0)


@dataclass(slots=True)  # not frozen: built per link, frozen __init__ costs ~1 us
class _LinkFacts:
    """What the classifier saw about one link, kept to explain its decision."""

    features: array  # of doubles, FEATURE_NAMES order
    region: tuple[Position, str, object] | None  # outermost region mark (rules)
    block: object  # nearest block ancestor
    nearest_name: tuple[Position, str, int, object] | None  # nearest region name, distance


def _log(x: float) -> float:
    return math.log1p(x) if x > 0 else 0.0


_FI = {name: k for k, name in enumerate(FEATURE_NAMES)}
_CONTAINER_OF_TAG: dict[str, tuple[int, ...]] = {}  # tag -> indices of its in_* features
for _name, _tags in _CONTAINERS:
    for _tag in _tags:
        _CONTAINER_OF_TAG[_tag] = (*_CONTAINER_OF_TAG.get(_tag, ()), _FI[f"in_{_name}"])
_I_NAME = {name: _FI[f"name_{name}"] for name in _VOCAB_NAMES}
_I_IN_MAIN, _I_ITEMPROP_BODY = _FI["in_main"], _FI["itemprop_body"]
_ANC_KEYS = tuple(
    (d, _FI[f"anc{d}_para_share"], _FI[f"anc{d}_para_density"], _FI[f"anc{d}_link_density"])
    for d in _DISTANCES
)
_RULE_KEY = {p: _FI[f"rule_{p.value}"] for p in _RULE_POSITIONS}
(_I_ANCHOR_LEN, _I_ANCHOR_WORDS, _I_HAS_IMG, _I_FRAGMENT, _I_SCRIPT, _I_MAILTO, _I_ABSOLUTE,
 _I_SHARE, _I_OTHER_SITE, _I_BEFORE, _I_AFTER, _I_AFTER_LOWER, _I_BEFORE_TOP, _I_AFTER_TOP,
 _I_REPEAT) = (_FI[k] for k in (
    "anchor_len", "anchor_words", "has_img", "href_fragment", "href_script", "href_mailto",
    "href_absolute", "href_share", "href_other_site", "before_len", "after_len", "after_lower",
    "before_top", "after_top", "repeat_siblings"))


@dataclass(slots=True)  # not frozen: built per link, frozen __init__ costs ~1 us
class _ParentPart:
    """Features that depend only on a link's parent element, shared by its sibling links."""

    row: array  # FEATURE_NAMES order; per-link features still zero
    region: tuple[Position, str, object] | None
    block: object
    nearest_name: tuple[Position, str, int, object] | None
    in_top: bool
    repeat_up: int  # repeated siblings of the parent and grandparent


# Feature rows are arrays of doubles: as cheap to copy and fill as lists, and the model reads a
# chunk's rows as one buffer instead of converting ~90 float objects a link.
_ZERO_ROW = array("d", [0.0] * len(FEATURE_NAMES))
_BLOCK_KIND = {"p": "blk_p", "blockquote": "blk_quote", "li": "blk_li", "div": "blk_div",
               "td": "blk_cell", "th": "blk_cell", "dd": "blk_cell", "dt": "blk_cell",
               **{h: "blk_heading" for h in _HEADINGS}}
_I_BLOCK_KIND = {tag: _FI[name] for tag, name in _BLOCK_KIND.items()}
(_I_BLK_TEXT, _I_BLK_PLAIN, _I_BLK_DENSITY, _I_BLK_LINKS, _I_BLK_PARA, _I_RULE_LANDMARK,
 _I_RULE_ROLE, _I_RULE_NAME, _I_IN_TOP, _I_IN_TOP_PARENT, _I_LIST_ITEMS, _I_LIST_DENSITY,
 _I_DEPTH, _I_PARA_BEFORE, _I_PARA_AFTER) = (_FI[k] for k in (
    "blk_text", "blk_plain", "blk_link_density", "blk_links", "blk_para", "rule_landmark",
    "rule_role", "rule_name", "in_top", "in_top_parent", "list_items", "list_link_density",
    "depth", "para_before", "para_after"))


def _parent_part(parent, a, page: _Page) -> _ParentPart:  # noqa: ANN001
    """The shared part of the features of the links below `parent` (`a`: one of them)."""
    row = page.base_row[:]  # the page-level features filled in
    index = page.index
    p = index.get(parent, -1) if parent is not None else -1
    depth, marks, b, name_hit, below_top = _inherited(p, page) if p >= 0 else (
        0, {}, index.get(a, -1), None, 0)
    block = page.order[b] if b >= 0 else a
    tags, parent_of = page.tags, page.parent_of
    k = _I_BLOCK_KIND.get(tags[b])
    if k is not None:
        row[k] = 1.0
    bt, bl = page.text_len[b], page.link_len[b]
    row[_I_BLK_TEXT] = _log(bt)
    row[_I_BLK_PLAIN] = _log(bt - bl)
    row[_I_BLK_DENSITY] = bl / bt if bt else 1.0
    row[_I_BLK_LINKS] = _log(page.link_count[b])
    row[_I_BLK_PARA] = page.para_len[b] / bt if bt else 0.0
    if page.total_para:  # paragraphs of the page before and after the link's block
        before = page.para_offset[b]
        after = page.total_para - before - page.para_len[b]
        row[_I_PARA_BEFORE] = before / page.total_para
        row[_I_PARA_AFTER] = max(after, 0) / page.total_para
    link_depth = depth + 1
    for k, at in marks.items():
        row[k] = 1.0 / (link_depth - at)
    nearest_name = None
    if name_hit is not None:
        nearest_name = (name_hit[0], name_hit[1], link_depth - name_hit[3], name_hit[2])

    # the numbers of the nearest ancestors, nearest first
    chain = []
    i = p
    while i >= 0 and len(chain) < _MAX_DISTANCE:
        chain.append(i)
        i = parent_of[i]
    region = _region_above(a, page)
    if region is not None:
        row[_RULE_KEY[region[0]]] = 1.0
        kind = region[1].split(" ", 1)[0]
        row[_I_RULE_LANDMARK] = float(kind == "landmark")
        row[_I_RULE_ROLE] = float(kind == "role")
        row[_I_RULE_NAME] = float(kind in ("id", "class"))
    stats_of = page.stats_of
    last = len(chain) - 1
    for d, k_share, k_density, k_links in _ANC_KEYS:
        i = chain[min(d - 1, last)] if chain else page.index.get(a, -1)
        stats = stats_of[i] or _element_stats(i, page)
        row[k_share], row[k_density], row[k_links] = stats

    in_top = below_top == 2
    if page.top is not None:
        row[_I_IN_TOP] = float(in_top)
        row[_I_IN_TOP_PARENT] = float(below_top > 0)

    li = next((i for i in chain[:4] if tags[i] == "li"), None)
    if li is not None and parent_of[li] >= 0:
        lst = parent_of[li]
        row[_I_LIST_ITEMS] = _log(_same_tag_children(lst, "li", page))
        lt = page.text_len[lst]
        row[_I_LIST_DENSITY] = page.link_len[lst] / lt if lt else 1.0
    repeat = 0
    for i in chain[:2]:
        up = parent_of[i]
        if up < 0:
            break
        repeat = max(repeat, _same_tag_children(up, tags[i], page) - 1)
    row[_I_DEPTH] = min(depth, 40) / 40
    return _ParentPart(row, region, block, nearest_name, in_top, repeat)


def _link_facts(a, page: _Page) -> _LinkFacts:  # noqa: ANN001
    parent = a.getparent()
    shared = page.parent_parts.get(parent) if parent is not None else None
    if shared is None:
        shared = _parent_part(parent, a, page)
        if parent is not None:
            page.parent_parts[parent] = shared
    row = shared.row[:]
    tag = _local(a.tag)
    if tag == "a":
        text = " ".join(a.text_content().split())
        words = text.count(" ") + 1 if text else 0
    else:
        text = a.get("alt") or ""
        words = len(text.split())
    row[_I_ANCHOR_LEN] = _log(len(text))
    row[_I_ANCHOR_WORDS] = min(words, 30)
    row[_I_HAS_IMG] = float(next(a.iter("{*}img"), None) is not None)
    href = a.get("href")
    href = href.strip().lower() if href else ""
    if href:
        row[_I_FRAGMENT] = float(href[0] == "#")
        row[_I_SCRIPT] = float(href.startswith("javascript:"))
        row[_I_MAILTO] = float(href.startswith(("mailto:", "tel:")))
        row[_I_ABSOLUTE] = float(href.startswith(("http:", "https:", "//")))
        row[_I_SHARE] = float(any(part in href for part in _SHARE_HREF_PARTS))
        if href.startswith(("http:", "https:", "//")):
            row[_I_OTHER_SITE] = _other_site(href, page.site)
    before, after = _text_beside(a)
    row[_I_BEFORE] = min(len(before), 200) / 200
    row[_I_AFTER] = min(len(after), 200) / 200
    row[_I_AFTER_LOWER] = float(bool(after) and (after[0].islower() or after[0] in ",.;:)"))
    off = page.offset[page.index.get(a, -1)]
    if page.top is not None and not shared.in_top:
        row[_I_BEFORE_TOP] = float(off < page.top_start)
        row[_I_AFTER_TOP] = float(off >= page.top_end)
    repeat = shared.repeat_up
    if parent is not None:
        repeat = max(repeat, _same_tag_children(page.index.get(parent, -1), tag, page) - 1)
    row[_I_REPEAT] = _log(repeat)
    return _LinkFacts(row, shared.region, shared.block, shared.nearest_name)


def _text_beside(a) -> tuple[str, str]:  # noqa: ANN001
    """The text right before a link (its previous sibling's tail, else its parent's text) and
    right after it (its tail), stripped."""
    prev = a.getprevious()
    if prev is not None:
        before = prev.tail
    else:
        parent = a.getparent()
        before = parent.text if parent is not None else ""
    return (before or "").strip(), (a.tail or "").strip()


def _element_stats(i: int, page: _Page) -> tuple[float, float, float]:
    """(share of the page's paragraph text, paragraph-text density, link density) of element
    number `i`, memoised."""
    t = page.text_len[i]
    para = page.para_len[i]
    stats = page.stats_of[i] = (
        para / (page.total_para or 1),
        para / t if t else 0.0,
        page.link_len[i] / t if t else 1.0,
    )
    return stats


def _inherited(i: int, page: _Page) -> tuple[int, dict, int, tuple | None, int]:
    """What element number `i` and its ancestors say, memoised top-down so links share the work.

    (depth of the element, {feature index: depth of the nearest ancestor-or-self that has it},
    number of the nearest block ancestor-or-self (else the root), nearest region name hit
    (position, "class \"x\"", element, depth), 2 if the element is or is below the main text
    block, 1 if below the block's parent only, else 0).
    """
    pending = []
    inherit, parent_of, order, tags = page.inherit, page.parent_of, page.order, page.tags
    while i >= 0 and inherit[i] is None:
        pending.append(i)
        i = parent_of[i]
    state = inherit[i] if i >= 0 else (-1, {}, -1, None, 0)
    top = page.index.get(page.top, -1) if page.top is not None else -2
    top_parent = parent_of[top] if top >= 0 else -2
    for i in reversed(pending):
        depth, marks, block, name_hit, in_top = state
        depth += 1
        if i == top:
            in_top = 2
        elif in_top == 0 and i == top_parent:
            in_top = 1
        tag = tags[i]
        node = order[i]
        own = list(_CONTAINER_OF_TAG.get(tag, ()))
        if tag == "div" and node.get("role") == "main":
            own.append(_I_IN_MAIN)
        if tag not in ("html", "body"):
            cats, hit = _names_info(node)
            if cats:
                own.extend(_I_NAME[c] for c in cats)
            if hit is not None:
                name_hit = (hit[0], hit[1], node, depth)
            if "articlebody" in (node.get("itemprop") or "").lower():
                own.append(_I_ITEMPROP_BODY)
        if own:
            marks = {**marks, **dict.fromkeys(own, depth)}
        # with no block above it (a link in <head>'s <noscript>), the root is the block, as
        # on the bounded path
        if tag in _BLOCK_TAGS or block < 0:
            block = i
        state = (depth, marks, block, name_hit, in_top)
        inherit[i] = state
    return state


def _region_above(el, page: _Page) -> tuple[Position, str, object] | None:  # noqa: ANN001
    chain = []
    node = el.getparent()
    while node is not None:
        chain.append(node)
        if node in page.region_of:
            break
        node = node.getparent()
    return _region_of_chain(chain, page)


def _same_tag_children(k: int, tag: str, page: _Page) -> int:
    """How many element children of element number `k` have this tag (repeated items of a
    list)."""
    counts = page.child_tags[k]
    if counts is None:
        return _kids(page.order[k], k, page).get(tag, 0) if k >= 0 else 0
    return counts.get(tag, 0)


def _region_of_chain(chain: list, page: _Page) -> tuple[Position, str, object] | None:
    """The outermost region mark among the ancestors (nearest first in `chain`)."""
    if not chain:
        return None
    # find the nearest ancestor already resolved, then resolve downwards from it
    k = 0
    while k < len(chain) and chain[k] not in page.region_of:
        k += 1
    region, in_section = page.region_of[chain[k]] if k < len(chain) else (None, False)
    for el in reversed(chain[:k]):
        tag = _local(el.tag)
        if region is None:
            if tag not in ("html", "body"):  # body classes describe the template, not a region
                mark = _region_mark(el, tag, in_section)
                if mark is not None and (
                    mark.signal.startswith(("landmark", "role"))
                    or mark.position is Position.COMMENTS
                    or not page.total_text
                    or (page.text_len[page.index.get(el, -1)]
                        < _WRAPPER_TEXT_SHARE * page.total_text
                        and el not in page.top_chain)
                ):  # a name on a container with most of the text, or with the main text
                    # block, is a misnamed wrapper (`theiaStickySidebar`, `pg-rail-tall__wrapper`)
                    region = (mark.position, mark.signal, el)
            in_section = in_section or tag in _SECTIONING
        page.region_of[el] = (region, in_section)
    return region


def page_features(root, anchors: Sequence,  # noqa: ANN001
                  page_url: str = "") -> list[tuple[float, ...]]:
    """Feature vectors of the links (FEATURE_NAMES order); used to train the model."""
    page = _measure(root, page_url=page_url)
    return [tuple(_link_facts(a, page).features) for a in anchors]


# --- the learned model ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Model:
    """Gradient-boosted trees (logistic loss), each padded to a perfect tree of `depth` levels.

    Nodes are in heap order (children of node k: 2k+1 left, 2k+2 right); a leaf above the last
    level becomes a node whose two subtrees are copies of it. One comparison of every link with
    every node, then `depth` look-ups, give every link's leaf in every tree at once.
    """

    feature: object  # int array (trees, 2**depth - 1)
    threshold: object  # float array (trees, 2**depth - 1): go left when x <= threshold
    value: object  # float array (trees, 2**depth): leaf values
    base: float
    depth: int
    cutoff: float  # probability at or above which a link is body

    def probabilities(self, rows: list[array]) -> list[float]:
        """P(body) of every feature row: `depth` steps, each one gather and one comparison per
        (link, tree), on flat arrays (no (links, trees, nodes) tensor)."""
        import numpy as np

        if not rows:
            return []
        x = np.frombuffer(b"".join(rows), dtype=np.float64).reshape(len(rows), -1)
        trees, inner = self.feature.shape
        xf = x.ravel()
        row_base = (np.arange(len(x)) * x.shape[1])[:, None]
        tree_base = (np.arange(trees) * inner)[None, :]
        feature, threshold = self.feature.ravel(), self.threshold.ravel()
        node = np.zeros((len(x), trees), dtype=np.intp)
        for _ in range(self.depth):
            k = tree_base + node
            node = 2 * node + 2 - (xf[row_base + feature[k]] <= threshold[k])
        leaf = node - inner + (np.arange(trees) * 2**self.depth)[None, :]
        margin = self.base + self.value.ravel()[leaf].sum(axis=1)
        return (1.0 / (1.0 + np.exp(-margin))).tolist()


MODEL_PATH = Path(__file__).resolve().parent / "models" / "position.json"


def load_model(path: Path = MODEL_PATH) -> _Model | None:
    """The shipped model, or None when there is none (then rules alone decide)."""
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    if tuple(spec["features"]) != FEATURE_NAMES:
        raise ValueError(f"{path}: trained on other features; retrain (bench/train_position.py)")
    return model_from_spec(spec)


def model_from_spec(spec: dict) -> _Model:
    """A model from the JSON form bench/train_position.py writes (its `features` must be
    FEATURE_NAMES: load_model checks that for files)."""
    import numpy as np

    trees = spec["trees"]
    depth = int(spec["max_depth"])
    inner = 2**depth - 1
    feature = np.zeros((len(trees), inner), dtype=np.intp)
    threshold = np.full((len(trees), inner), np.inf)
    value = np.zeros((len(trees), 2**depth))
    for t, tree in enumerate(trees):
        stack = [(0, 0)]  # (node in the tree, heap position)
        while stack:
            node, at = stack.pop()
            if at >= inner:  # last level: a leaf
                value[t, at - inner] = tree["value"][node]
            elif tree["feature"][node] < 0:  # a leaf above the last level: both ways the same
                stack += [(node, 2 * at + 1), (node, 2 * at + 2)]
            else:
                feature[t, at] = tree["feature"][node]
                threshold[t, at] = tree["threshold"][node]
                stack += [(tree["left"][node], 2 * at + 1), (tree["right"][node], 2 * at + 2)]
    return _Model(feature=feature, threshold=threshold, value=value, base=float(spec["base"]),
                  depth=depth, cutoff=float(spec["cutoff"]))


_MODEL_CACHE: dict[str, _Model | None] = {}


def _shipped_model() -> _Model | None:
    if "model" not in _MODEL_CACHE:
        _MODEL_CACHE["model"] = load_model()
    return _MODEL_CACHE["model"]


def use_model(model: _Model | None) -> None:
    """Make classify_positions use `model` in this process, None for the shipped one. For
    benchmarks only: bench/position.py --leave-site-out judges each page with a model trained
    without its site; the crawler always uses the shipped model."""
    if model is None:
        _MODEL_CACHE.pop("model", None)
    else:
        _MODEL_CACHE["model"] = model


# --- decisions --------------------------------------------------------------------------------

_FEATURE_INDEX = {name: k for k, name in enumerate(FEATURE_NAMES)}


class _View:
    """A link's feature row read by name (no per-link dict)."""

    __slots__ = ("row",)

    def __init__(self, row: tuple[float, ...]) -> None:
        self.row = row

    def __getitem__(self, name: str) -> float:
        return self.row[_FEATURE_INDEX[name]]



def _body_reason(facts: _LinkFacts, page: _Page) -> str:
    f = _View(facts.features)
    parts = []
    if f["blk_p"]:
        parts.append("in <p>")
    parts.append(f"block link density {f['blk_link_density']:.2f}")
    if f["in_top"]:
        parts.append(f"inside main text block at {element_path(page.top, page)}")
    return ", ".join(parts)


# Running text: a link inside a prose block (<p>, <li>, table cell, <blockquote>) of the main
# text block with real prose around it is body (almost) whatever the model says. On the eval
# pages this rule alone has precision 0.95 (p: 667 of 699 body, li: 32 of 32; no cell or
# blockquote cases); it keeps simple, well-formed pages (one article, few links) right where
# the model has seen few such.
_RUNNING_PLAIN = math.log1p(20)  # at least 20 characters of text that is not link text
_RUNNING_DENSITY = 0.3
# ... except in a <p> where the model is nearly certain the link is boilerplate: sign-offs,
# bylines and promo lines written as sentences ("Follow us on Twitter and Facebook"). The model
# learnt from ~700 running-text links in <p>; in lists, cells and quotes, and on pages without
# a main text block, it has seen too few to overrule the rule. Leave-site-out, mean of 3 seeds
# at one cutoff: precision +0.01, recall -0.001, no more no-body pages called body.
_RUNNING_FLOOR = 0.05
_I_BLK_P = _FI["blk_p"]
# _LAYOUT_CELL: a prose block that is the main text block or holds it is a layout container (the
# table cell of a 2005 page holding the article, its paragraphs split by <br> or in a <div>, and
# the link lines after it: "News Headlines", "More From Forbes.com"). Its link density and plain
# text are the whole article's and say nothing of the link's own line, so there running text
# also needs words on both sides of the link, as on a page without a main text block. On the
# 2005 and 2009 pages of ir-research-data (bench/README.md) this keeps 34 site links out of the
# body and loses 1 body link (a byline name alone in <b>); no other labelled set has the case.
# The model reads the same misleading block measures, so when that block is a table cell, its
# body call needs words on both sides of the link as well (_layout_cell_line): 12 more site
# links out of the body there, 2 names alone in <b> lost, nothing changed elsewhere. (For any
# block in the chain, not only cells, it would cost today's pages whose article is a <div> of
# text and <br>: 18 body links on shared/eval and readability.)


# A short block stating a legal notice (privacy policy, terms of use, a copyright line, cookie
# settings; several languages) is site furniture wherever the template puts it, often inside the
# article container: "By signing up you agree to our Terms of Use", "(c) 2023 The Financial Times
# Ltd", a "Do Not Sell" line under the story. Its links are footer, whatever the model or the
# running-text rule say. Longer blocks are left alone: a review saying a VPN's "privacy policy
# is easy to understand" is article text. (Gold labels of the links in such blocks are in
# bench/README.md, "Legal notices".)
_LEGAL_PHRASES = (
    "privacy policy", "privacy notice", "privacy statement", "terms of use", "terms of service",
    "terms and conditions", "user agreement", "all rights reserved", "cookie policy",
    "cookie settings", "cookie preferences", "use of cookies", "\u00a9", "do not sell my",
    "reprint permission",
    "datenschutzerkl\u00e4rung", "datenschutzhinweise", "impressum", "nutzungsbedingungen",
    "alle rechte vorbehalten", "mentions l\u00e9gales", "politique de confidentialit\u00e9",
    "tous droits r\u00e9serv\u00e9s", "pol\u00edtica de privacidad", "pol\u00edtica de cookies",
    "pol\u00edtica de privacidade", "aviso legal", "todos los derechos reservados", "termos de uso",
    "todos os direitos reservados", "informativa sulla privacy", "tutti i diritti riservati",
    "privacybeleid", "alle rechten voorbehouden",
)
_LEGAL_NOTICE_MAX = 300  # characters of text in the block
# _LEGAL_LINK: a link whose whole anchor is one of those phrases written as a page's name
# ("Privacy Policy.", "User Agreement", "Terms of Use": every word longer than 3 letters
# capitalised) is the site's furniture however long its block: a newsletter box's "By signing
# up you agree to our User Agreement and Privacy Policy" runs past the limit above. Written as a
# common noun ("its privacy policy is short") it may be the article's. Of the links anchored by
# those phrases on the four labelled sets (bench/README.md), none is labelled body.
_LEGAL_PHRASE_SET = frozenset(_LEGAL_PHRASES)
_LEGAL_LINK_STRIP = " .,:;!?()[]\"'"


def _legal_notice(block, page: _Page | None = None) -> str | None:  # noqa: ANN001
    """The legal-notice phrase of a short block (see _LEGAL_PHRASES), or None. With `page`, a
    block whose visible text alone is over the limit is turned away without reading it."""
    if block is None or (page is not None
                         and page.text_len[page.index.get(block, -1)] > _LEGAL_NOTICE_MAX):
        return None
    size, parts = 0, []
    for text in block.itertext():
        size += len(text)
        if size > _LEGAL_NOTICE_MAX:
            return None
        parts.append(text)
    text = " ".join("".join(parts).split()).lower()
    # substring tests: a case-insensitive regex alternation of the phrases costs ~13x as much
    return next((phrase for phrase in _LEGAL_PHRASES if phrase in text), None)


def _legal_footer(a, block, path: str, page: _Page | None,  # noqa: ANN001
                  note: str) -> PositionDecision | None:
    """The footer decision for a link whose anchor is a legal phrase (_LEGAL_LINK) or whose
    block is a legal notice, or None."""
    words = a.text_content().split()
    anchor = " ".join(words).lower().strip(_LEGAL_LINK_STRIP)
    if anchor in _LEGAL_PHRASE_SET and all(w[0].isupper() for w in words if len(w) > 3):
        return PositionDecision(Position.FOOTER, path, f'legal link ("{anchor}") at {path}; {note}')
    notice = _legal_notice(block, page)
    if notice is None:
        return None
    return PositionDecision(Position.FOOTER, path, (
        f'legal notice ("{notice}") in block at {element_path(block, page)}; {note}'))


# A list of at least 3 items that are each just a link, inside the main text block with (almost)
# none of the page's paragraph text after it, is the headlines list that closes a story
# ("More news", "Related", on older templates often in a layout table inside the article's
# <form>), whatever the model says. Gold labels of such links: shared/eval 0 body of 72,
# newspaper4k 0 of 54, readability 13 of 618, ir-research-data 3 of 260 (bench/README.md,
# "Closing link lists"). The same list in the middle of the text is left to the model.
_CLOSING_LIST_ITEMS = math.log1p(3)
_CLOSING_LIST_DENSITY = 0.9  # link text share of the whole list
_CLOSING_ITEM_DENSITY = 0.95  # link text share of the link's own item
_CLOSING_LIST_AFTER = 0.1  # share of the page's paragraph text after the item
_I_BLK_LI = _FI["blk_li"]


def _closing_list(facts: _LinkFacts) -> bool:
    f = facts.features
    return (f[_I_BLK_LI] > 0 and f[_I_BLK_DENSITY] >= _CLOSING_ITEM_DENSITY and f[_I_IN_TOP] > 0
            and f[_I_LIST_ITEMS] >= _CLOSING_LIST_ITEMS
            and f[_I_LIST_DENSITY] >= _CLOSING_LIST_DENSITY
            and f[_I_PARA_AFTER] <= _CLOSING_LIST_AFTER)


def _not_body_after_all(a, facts: _LinkFacts, path: str, page: _Page,  # noqa: ANN001
                        note: str) -> PositionDecision | None:
    """For a link that would be body: the decision of the rules that overrule that (a legal
    notice, a list closing the main text), or None."""
    legal = _legal_footer(a, facts.block, path, page, note)
    if legal is not None or not _closing_list(facts):
        return legal
    pos, why = _boilerplate_position(facts, page)
    return PositionDecision(pos, path, f"{why}, in a list of links closing the main text; {note}")


# _LAYOUT_COLUMNS: "in the main text block" means in the main text block's parent, so that a
# link in a sentence just outside the story's <div> (a last line, the end of a split article)
# still counts. But when the main text block is a table cell, that parent is the layout table's
# row and its other cells are the page's other columns: a rail of promo boxes, each a headline
# link and a teaser sentence, whose links read as running text. There only the cell itself is
# the main text block. On the 2005 and 2009 pages of ir-research-data (bench/README.md) this
# keeps 21 promo links out of the body and loses none; no other labelled set has the case.
_CELL_TAGS = frozenset({"td", "th"})
_BESIDE_CELL = "a column beside the main text block (a layout table's cell)"


def _in_main_text(f: _View, page: _Page) -> bool:
    """Whether a link is in the main text block or, unless that is a cell, in its parent."""
    return bool(f["in_top"] or (f["in_top_parent"] and not page.top_is_cell))


def _layout_cell_line(a, facts: _LinkFacts, page: _Page) -> bool:  # noqa: ANN001
    """Whether a link's block is a table cell that is the main text block or holds it, and the
    link has no words on one side: the model read the whole article's measures for it."""
    return (facts.block in page.top_chain and _local(facts.block.tag) in _CELL_TAGS
            and not all(_text_beside(a)))


_PROSE_BLOCKS = ("blk_p", "blk_li", "blk_cell", "blk_quote")
_PROSE_NAMES = {"blk_p": "<p>", "blk_li": "<li>", "blk_cell": "a table cell",
                "blk_quote": "<blockquote>"}


def _running_text(facts: _LinkFacts, page: _Page) -> str | None:
    f = _View(facts.features)
    prose = next((b for b in _PROSE_BLOCKS if f[b]), None)
    if (
        prose is not None
        and f["blk_plain"] >= _RUNNING_PLAIN
        and f["blk_link_density"] <= _RUNNING_DENSITY
        # see _LAYOUT_CELL
        and (facts.block not in page.top_chain or (f["before_len"] > 0 and f["after_len"] > 0))
    ):
        if _in_main_text(f, page):
            where = "in the main text block"
        elif _in_text_region(facts.block, page):
            where = f"in the text region at {element_path(page.text_region, page)}"
        else:
            return None
        return (f"running text in {_PROSE_NAMES[prose]} (link density "
                f"{f['blk_link_density']:.2f}) {where}")
    # A page too short to have a main text block (no paragraph of 30 characters that is mostly
    # not link text): the main-content landmark stands in for it, and a link in the middle of a
    # sentence there (words on both sides, in one <p>) is body. On the eval pages every page has
    # a main text block, so this never fires there; it keeps one-sentence pages right.
    if (
        page.top is None
        and f["blk_p"]
        and (f["in_main"] or f["in_article"])
        and f["before_len"] > 0
        and f["after_len"] > 0
    ):
        return "a sentence in <p> inside <main>/<article> (the page has no main text block)"
    return None


def _boilerplate_position(facts: _LinkFacts, page: _Page) -> tuple[Position, str]:
    """Where a link the model calls boilerplate sits, when no region container says so."""
    if facts.nearest_name is not None:
        pos, what, d, el = facts.nearest_name
        return pos, f"{what} (distance {d}) at {element_path(el, page)}"
    f = _View(facts.features)
    density = (f"block at {element_path(facts.block, page)} "
               f"(link density {f['blk_link_density']:.2f})")
    if f["in_top_parent"]:
        if _in_main_text(f, page):
            return Position.SIDEBAR, f"{density}, a box within the main text block"
        return Position.SIDEBAR, f"{density}, {_BESIDE_CELL}"
    # a card or box between an article's chunks
    if facts.block is page.text_region or _in_text_region(facts.block, page):
        return Position.SIDEBAR, (f"{density}, a box within the text region at "
                                  f"{element_path(page.text_region, page)}")
    if f["before_top"]:
        return (Position.NAV if f["list_items"] else Position.HEADER), f"{density}, before the main text"
    if f["after_top"]:
        return Position.FOOTER, f"{density}, after the main text"
    return Position.SIDEBAR, f"{density}, outside the main text"


# Few uncertain body calls: a page where the model calls at most _LONE_BODY_LINKS links body,
# each with P(body) under _LONE_BODY_P, and no link is body as running text, gets no body link.
# An article that links out does so in its sentences, or often; one or two hesitant calls
# outside any sentence are more often a promo line or a box inside the story's container on a
# page whose article has no link at all (issue 4, item 3). Pages with no labelled body link
# that still got one, before -> after: shared/eval 5/48 -> 2/48, newspaper4k 24/71 -> 20/71,
# ir-research-data 58/177 -> 34/177; body F1 +0.001, +0.000, +0.003 there, and -0.001 on
# Readability's test pages (a synthetic page of eight bare links). The gate needs the whole
# page's calls, so with `only` an uncertain call makes classify_positions judge every link.
_LONE_BODY_LINKS = 2
_LONE_BODY_P = 0.9
_LONE_NOTE = "but the page's only body calls are few and uncertain"

# Pages bigger than this go down the bounded path (see _classify_bounded): the per-element
# measurements of the full path cost ~460 bytes per element and its features ~4 KB per link,
# which on a 50 MiB page of 114k links (457k elements) came to 1.8 GiB. Real article pages are
# far below both caps (the 181 eval pages: at most 1,600 elements and 592 links).
MAX_MODEL_LINKS = 5_000
MAX_MODEL_ELEMENTS = 50_000
_CHUNK = 1024  # links whose features and model tensors exist at once on the full path


# The decision given to links the caller did not ask about (`only`): nothing was computed.
NOT_CLASSIFIED = PositionDecision(Position.BODY, "", "not classified (not asked for)")


def classify_positions(root, anchors: Sequence | Iterable,  # noqa: ANN001
                       only: Collection[int] | None = None, *,
                       page_url: str = "") -> list[PositionDecision]:
    """One decision per link element in `anchors`, in the same order (see module docstring);
    `root` is the document's root element, as parsed.

    `only`: indices of the links whose position is wanted (the verifier needs the few links to
    the target's site, not the hundred others); the rest get NOT_CLASSIFIED. Page-level
    measures still cover every link, so a classified link gets exactly the decision it would
    get without `only`.

    `page_url`: the URL the page was fetched from; its site counts as the page's own when the
    page names none in <head> (canonical link or og:url).
    """
    anchors = list(anchors)
    if not anchors:
        return []
    if len(anchors) > MAX_MODEL_LINKS:
        return _classify_bounded(root, anchors)
    nodes = list(islice(root.iter(), MAX_MODEL_ELEMENTS + 1))  # counted once, kept for _measure
    if len(nodes) > MAX_MODEL_ELEMENTS:
        return _classify_bounded(root, anchors)
    n = len(anchors)
    wanted = range(n) if only is None else sorted(k for k in set(only) if 0 <= k < n)
    if not wanted:
        return [NOT_CLASSIFIED] * n
    page = _measure(root, nodes, all_links=len(wanted) > n // 4, page_url=page_url)
    model = _shipped_model()
    out: list[PositionDecision | None] = [None] * n if only is None else [NOT_CLASSIFIED] * n
    todo = []  # links the model judges
    for k in wanted:
        a = anchors[k]
        region = _region_above(a, page)
        if region is not None and (model is None or _region_decides(region, page)):
            pos, signal, el = region
            out[k] = PositionDecision(pos, element_path(a, page),
                                      f"{signal} at {element_path(el, page)}")
        elif page.embeds and (embed := _embed_above(a, page)) is not None:
            out[k] = PositionDecision(Position.SIDEBAR, element_path(a, page),
                                      f"{page.embeds[embed]} at {element_path(embed, page)}")
        else:
            todo.append(k)
    # (k, P(body), facts) of the uncertain body calls; None once a sure call is seen, or more
    # than _LONE_BODY_LINKS uncertain ones
    lone: list | None = []
    for start in range(0, len(todo), _CHUNK):
        chunk = todo[start:start + _CHUNK]
        facts = [_link_facts(anchors[k], page) for k in chunk]
        probs = model.probabilities([fa.features for fa in facts]) if model else None
        decided: list[PositionDecision] = []
        calls: list = []
        _decide_chunk([anchors[k] for k in chunk], facts, probs, model, page, decided, calls)
        for k, d in zip(chunk, decided, strict=True):
            out[k] = d
        for j, p, sure in calls:
            if lone is None:
                break
            if sure or len(lone) == _LONE_BODY_LINKS:
                lone = None
            else:
                lone.append((chunk[j], p, facts[j]))
    if lone:
        if only is not None and len(wanted) < n:
            # the gate needs every link's call: judge the page whole (rare: an uncertain call)
            full = classify_positions(root, anchors, page_url=page_url)
            return [full[k] if out[k] is not NOT_CLASSIFIED else NOT_CLASSIFIED
                    for k in range(n)]
        for k, p, fa in lone:
            pos, why = _boilerplate_position(fa, page)
            out[k] = PositionDecision(pos, out[k].path, f"{why}; model {p:.2f}, {_LONE_NOTE}")
    return out  # type: ignore[return-value]


def _embed_above(a, page: _Page):  # noqa: ANN001, ANN202
    """The embedded post holding the link, or None (see _EMBEDDED_POSTS). Below a region that
    decides, the region wins; below one that leaves its links to the model (a <header> wrapping
    the whole page, a named box), the embedded post decides."""
    embeds = page.embeds
    return next((up for up in a.iterancestors() if up in embeds), None)


def _region_decides(region: tuple[Position, str, object], page: _Page) -> bool:
    """A comment thread, or a landmark/ARIA region that is not a wrapper around most of the
    page's text, decides without the model. (On the 181 eval pages the model, cross-validated by
    site, called none of the 10,514 links in landmark or ARIA regions body; 2 were labelled body.)
    Regions named only by id/class are left to the model: names mislead more often."""
    pos, signal, el = region
    if pos is Position.COMMENTS:
        return True
    if not signal.startswith(("landmark", "role")):
        return False
    return (not page.total_text
            or page.text_len[page.index.get(el, -1)] < _WRAPPER_TEXT_SHARE * page.total_text)


def _decide_chunk(anchors: list, facts: list, probs: list | None, model: _Model | None,
                  page: _Page, out: list, calls: list) -> None:
    """Appends the decisions to `out`, and to `calls` (j, P(body), sure) for every body call
    of the model or the running-text rule (sure: running text, or P(body) >= _LONE_BODY_P)."""
    for k, (a, fa) in enumerate(zip(anchors, facts, strict=True)):
        path = element_path(a, page)
        region = fa.region
        if region is not None and (region[0] is Position.COMMENTS or probs is None):
            pos, signal, el = region
            out.append(PositionDecision(pos, path, f"{signal} at {element_path(el, page)}"))
            continue
        if probs is None:
            out.append(_not_body_after_all(a, fa, path, page, "no model") or PositionDecision(
                Position.BODY, path, "no region container (default body)"))
            continue
        p = probs[k]
        running = _running_text(fa, page) if region is None else None
        # see _RUNNING_FLOOR; in the text region, outside the main text block's parent, the
        # model learnt these links as no running text, and its near-certainty overrules the
        # rule in any prose block (a teaser in <li> of the next story in a river)
        overruled = (running is not None and p < _RUNNING_FLOOR and page.top is not None
                     and (fa.features[_I_BLK_P] or not fa.features[_I_IN_TOP_PARENT]))
        running_body = running is not None and not overruled
        model_body = p >= model.cutoff and not _layout_cell_line(a, fa, page)
        if running_body or model_body:
            not_body = _not_body_after_all(a, fa, path, page, f"model {p:.2f}")
            if not_body is not None:
                out.append(not_body)
            elif running_body:
                out.append(PositionDecision(Position.BODY, path, f"{running}; model {p:.2f}"))
            else:
                why = _body_reason(fa, page)
                out.append(PositionDecision(Position.BODY, path, f"model {p:.2f}: {why}"))
            if not_body is None:
                calls.append((k, p, running_body or p >= _LONE_BODY_P))
            continue
        if region is not None:
            pos, signal, el = region
            out.append(PositionDecision(pos, path, f"{signal} at {element_path(el, page)}; model {p:.2f}"))
            continue
        pos, why = _boilerplate_position(fa, page)
        # "running text in <p> (link density ...) in ..." -> "(overrules running text in <p>)"
        overrules = f" (overrules {running.partition(' (')[0]})" if overruled else ""
        # the model said body, but see _layout_cell_line
        line = " (a link line in the layout cell holding the article)" if p >= model.cutoff else ""
        out.append(PositionDecision(pos, path, f"{why}; model {p:.2f}{overrules}{line}"))


# --- the bounded path for huge pages ----------------------------------------------------------
#
# One streaming walk (lxml iterwalk) keeps only the current chain of ancestors; per link it
# keeps its path, the region marks above it, the nearest region name, its text offset and its
# nearest block's measurements. Decisions, in order:
#   1. the outermost region mark above the link, exactly as on the full path (a name on a
#      container holding half the page's text is a misnamed wrapper and marks nothing);
#   2. running text: the link's nearest block is a <p>, <li>, table cell or <blockquote> with at
#      least 20 characters that are not link text, link density <= 0.3, inside the main text
#      block or beside it, or in the text region (same main-text-block score and text region
#      as the full path), with words on both sides of the link if that block is the main text
#      block or holds it (see _LAYOUT_CELL): body;
#   3. everything else is boilerplate, placed like a link the model rejects (nearest region
#      name, else a box inside the main text block or the text region, before it, after it).
# No learned model runs here, so a link without prose around it is never body: on a huge page a
# missed body link is the cheaper error than thousands of invented ones. Memory is the tree plus
# ~200 bytes per link; time is linear in the elements.


class _Frame:
    """One open element of the streaming walk."""

    __slots__ = ("tag", "path", "text", "links", "para", "direct", "score", "start", "end",
                 "offset", "counts", "seen", "pending", "marks", "mark", "name_hit",
                 "in_section", "block", "skip", "parent")

    def __init__(self, tag: str, path: str, parent: _Frame | None) -> None:
        self.tag = tag
        self.path = path
        self.parent = parent
        self.text = self.links = self.para = self.direct = 0
        self.score = 0.0
        self.start = self.end = self.offset = 0
        self.counts: dict[str, int] | None = None  # tags of the element children
        self.seen: dict[str, int] | None = None  # of them, how many started so far
        self.pending: list | None = None  # records of links whose nearest block this is
        self.marks: tuple = ()  # region marks at or above, outermost first
        self.mark: _BoundedMark | None = None  # this element's own mark
        self.name_hit: tuple | None = None
        self.in_section = False  # below article/aside/main/nav/section
        self.block: _Frame | None = None
        self.skip = False  # script, style, ...: no visible text


class _BoundedMark:
    """A region mark met on the walk; `text` is known when its element ends."""

    __slots__ = ("position", "signal", "decides", "text", "start", "end")

    def __init__(self, position: Position, signal: str, decides: bool) -> None:
        self.position = position
        self.signal = signal  # "landmark <footer> at html/body/footer"
        self.decides = decides  # landmark, role or comments: no wrapper exemption
        self.text = 0
        self.start = self.end = 0  # element ordinals: it holds the elements started in between


def _classify_bounded(root, anchors: list) -> list[PositionDecision]:  # noqa: ANN001, C901, PLR0912, PLR0915
    where = {a: k for k, a in enumerate(anchors)}
    # per link: [path, marks, name_hit, text offset, ordinal, block tag, plain chars, density]
    records: list[list | None] = [None] * len(anchors)
    stack: list[_Frame] = []
    ordinal = seen_text = 0
    body_text: int | None = None
    best = 0.0
    top: _Frame | None = None
    top_el = None  # the main text block's element (_LAYOUT_CELL)
    # the text region's candidates: scores and element ordinals only (a huge page may have
    # ~100k; frames would keep their paths alive), lists left out
    cand_scores, cand_starts = array("d"), array("q")
    for event, el in etree.iterwalk(root, events=("start", "end")):
        tag = _local(el.tag)
        if not tag:
            continue  # comments, processing instructions
        if event == "start":
            parent = stack[-1] if stack else None
            if parent is None:
                frame = _Frame(tag, tag, None)
            else:
                if parent.counts is None:
                    counts: dict[str, int] = {}
                    for child in el.getparent():
                        t = _local(child.tag)
                        if t:
                            counts[t] = counts.get(t, 0) + 1
                    parent.counts, parent.seen = counts, {}
                n = parent.seen[tag] = parent.seen.get(tag, 0) + 1
                step = f"{tag}[{n}]" if parent.counts.get(tag, 0) > 1 else tag
                frame = _Frame(tag, f"{parent.path}/{step}", parent)
                frame.skip = parent.skip
                frame.in_section = parent.in_section
                frame.marks, frame.name_hit, frame.block = parent.marks, parent.name_hit, parent.block
            frame.start = ordinal
            ordinal += 1
            frame.skip = frame.skip or tag in _SKIP_TEXT_TAGS
            frame.offset = seen_text
            own = 0 if frame.skip else len((el.text or "").strip())
            frame.text = frame.direct = own
            seen_text += own
            k = where.get(el)
            if k is not None:  # what is above the link decides, not the link itself
                block = frame.block or (stack[0] if stack else frame)
                rec = [frame.path, frame.marks, frame.name_hit, frame.offset, frame.start,
                       "", 0, 1.0]
                records[k] = rec
                if block.pending is None:
                    block.pending = []
                block.pending.append(rec)
            if tag not in ("html", "body"):  # body classes describe the template
                mark = _region_mark(el, tag, frame.in_section)
                if mark is None and tag == "blockquote":
                    embed = _embedded_post(el)
                    if embed is not None:
                        mark = _Mark(Position.SIDEBAR, embed)
                if mark is not None:
                    decides = mark.signal.startswith(("landmark", "role", "embedded post")) or (
                        mark.position is Position.COMMENTS)
                    frame.mark = _BoundedMark(mark.position, f"{mark.signal} at {frame.path}",
                                              decides)
                    frame.marks = (*frame.marks, frame.mark)
                hit = _names_info(el)[1]
                if hit is not None:
                    frame.name_hit = (hit[0], f"{hit[1]} at {frame.path}")
            frame.in_section = frame.in_section or tag in _SECTIONING
            if tag in _BLOCK_TAGS:
                frame.block = frame
            stack.append(frame)
            continue
        # end of an element: its measurements are complete
        frame = stack.pop()
        frame.end = ordinal
        total = frame.text
        links = total if tag in _LINK_TAGS else frame.links
        parent = frame.parent
        if not frame.skip:
            is_para = tag in _PARA_TAGS or (
                frame.direct >= _DIRECT_TEXT_PARA and tag not in _LINK_TAGS)
            if is_para and total >= _PARA_MIN and links < 0.5 * total:
                frame.para = total  # (as _measure: paragraph text credited upwards)
                unit = 1.0 + min(total / 100.0, 3.0)
                if parent is not None:
                    parent.score += unit
                    if parent.parent is not None:
                        parent.parent.score += unit / 2
        if frame.score > 0 and total and not any(
                m.position is Position.COMMENTS for m in frame.marks):  # (as _main_text_block)
            s = frame.score * (1.0 - links / total)
            if s > 0 and s >= _REGION_SHARE * best and tag not in _LIST_TAGS:
                cand_scores.append(s)
                cand_starts.append(frame.start)
            if s > best:
                best, top, top_el = s, frame, el
        if frame.mark is not None:
            frame.mark.text = total
            frame.mark.start, frame.mark.end = frame.start, frame.end
        if frame.pending:
            density = links / total if total else 1.0
            for rec in frame.pending:
                rec[5], rec[6], rec[7] = tag, total - links, density
            frame.pending = None
        frame.counts = frame.seen = None
        if tag == "body" and body_text is None:
            body_text = total
        if parent is not None:
            tail = 0 if parent.skip else len((el.tail or "").strip())
            seen_text += tail
            parent.text += (0 if frame.skip else total) + tail
            parent.links += 0 if frame.skip else links
            parent.para += frame.para
            parent.direct += tail
    page_text = body_text if body_text is not None else seen_text
    text_region = None
    if top is not None:  # (comment threads are no candidates here)
        chain = []  # the main text block's ancestors, nearest first
        up = top.parent
        while up is not None:
            chain.append(up)
            up = up.parent
        starts = {a.start for a in chain}

        def meet(start: int) -> int | None:
            if top.start <= start < top.end or start in starts:
                return None
            return next((d for d, a in enumerate(chain, 1) if a.start <= start < a.end), None)

        d = _text_region(zip(cand_scores, cand_starts, strict=True), best, meet,
                         [a.tag for a in chain])
        text_region = chain[d - 1] if d is not None else None
    # the main text block and its ancestors, held so that their proxies stay the same objects
    top_chain = {top_el, *top_el.iterancestors()} if top_el is not None else set()
    return _bounded_decisions(anchors, records, top, page_text, text_region, top_chain)


_PROSE_TAGS = {"p": "<p>", "li": "<li>", "td": "a table cell", "th": "a table cell",
               "dd": "a table cell", "dt": "a table cell", "blockquote": "<blockquote>"}
_RUNNING_PLAIN_CHARS = 20


def _nearest_block(a):  # noqa: ANN001, ANN202
    """The nearest block ancestor of a link (the full path's `block`)."""
    for node in a.iterancestors():
        if _local(node.tag) in _BLOCK_TAGS:
            return node
    return None


def _bounded_decisions(anchors: list, records: list, top: _Frame | None, page_text: int,  # noqa: PLR0913
                       text_region: _Frame | None, top_chain: set) -> list[PositionDecision]:
    note = f"bounded path ({len(anchors)} links)"
    row = None
    if top is not None:
        row = top.parent if top.tag in _CELL_TAGS else None  # see _LAYOUT_COLUMNS
        inside = top.parent if top.parent is not None and row is None else top
        lo, hi = inside.start, inside.end
        t_lo, t_hi = top.start, top.end
        top_start, top_end = top.offset, top.offset + top.text
    signals: dict[tuple, str] = {}  # decisions repeat: one string per distinct signal
    out: list[PositionDecision] = []
    for a, rec in zip(anchors, records, strict=True):
        if rec is None:  # not under root: should not happen
            out.append(PositionDecision(Position.BODY, element_path(a), f"not in the tree; {note}"))
            continue
        path, marks, name_hit, offset, start, btag, plain, density = rec
        region = next((m for m in marks if m.decides or not page_text
                       or (m.text < _WRAPPER_TEXT_SHARE * page_text
                           and not (top is not None and m.start <= top.start < m.end))), None)
        if region is not None:
            key = ("region", region.signal)
            sig = signals.get(key) or signals.setdefault(key, f"{region.signal}; {note}")
            out.append(PositionDecision(region.position, path, sig))
            continue
        in_parent = top is not None and lo <= start < hi
        in_region = text_region is not None and text_region.start <= start < text_region.end
        prose = _PROSE_TAGS.get(btag)
        if (prose is not None and (in_parent or in_region) and plain >= _RUNNING_PLAIN_CHARS
                and density <= _RUNNING_DENSITY
                and ((block := _nearest_block(a)) not in top_chain
                     or all(_text_beside(a)))):  # see _LAYOUT_CELL
            legal = _legal_footer(a, block, path, None, note)
            if legal is not None:
                out.append(legal)
                continue
            key = ("run", prose, round(density, 2), in_parent)
            where_ = (f"in the main text block at {top.path}" if in_parent
                      else f"in the text region at {text_region.path}")
            sig = signals.get(key) or signals.setdefault(key, (
                f"running text in {prose} (link density {density:.2f}) {where_}; {note}"))
            out.append(PositionDecision(Position.BODY, path, sig))
            continue
        if name_hit is not None:
            pos, what = name_hit
            key = ("name", what)
            sig = signals.get(key) or signals.setdefault(key, f"{what}; {note}")
            out.append(PositionDecision(pos, path, sig))
            continue
        if in_parent:
            pos, where_ = Position.SIDEBAR, "a box within the main text block"
        elif row is not None and row.start <= start < row.end:
            pos, where_ = Position.SIDEBAR, _BESIDE_CELL
        elif in_region:
            pos, where_ = Position.SIDEBAR, f"a box within the text region at {text_region.path}"
        elif top is not None and not (t_lo <= start < t_hi) and offset < top_start:
            pos, where_ = Position.HEADER, "before the main text"
        elif top is not None and not (t_lo <= start < t_hi) and offset >= top_end:
            pos, where_ = Position.FOOTER, "after the main text"
        else:
            pos, where_ = Position.SIDEBAR, "outside the main text"
        key = ("place", where_, btag, round(density, 2))
        sig = signals.get(key) or signals.setdefault(key, (
            f"no prose around the link (block <{btag}>, link density {density:.2f}), "
            f"{where_}; {note}"))
        out.append(PositionDecision(pos, path, sig))
    return out
