"""Link and page-level extraction from HTML: a pure function of (html, url).

OWNED BY THE EXTRACTION WORK (issue 2 item 2). The dataclasses below are the interface the
rest of the project codes against: fields may be added, never renamed or removed.
"""

from __future__ import annotations

from dataclasses import dataclass

from linkcrawler.enums import Position


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


@dataclass(frozen=True, slots=True)
class ParsedPage:
    links: tuple[Link, ...]
    info: PageInfo


def parse_page(
    html: str | bytes,
    url: str,
    *,
    content_type: str = "text/html",
    x_robots_tag: tuple[str, ...] | list[str] = (),
) -> ParsedPage:
    """Parse once: every link with its position and context, plus the page-level facts.

    `x_robots_tag` is the list of raw X-Robots-Tag header values of the response.
    """
    raise NotImplementedError


def extract_links(html: str | bytes, url: str) -> list[Link]:
    """Every hyperlink on the page, in document order (public API, DESIGN §3)."""
    return list(parse_page(html, url).links)
