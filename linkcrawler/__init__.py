"""linkcrawler: a polite web crawler that verifies live backlinks."""

from __future__ import annotations

__version__ = "0.1.0"

from linkcrawler.extraction import Link, PageInfo, ParsedPage, extract_links, parse_page

__all__ = ["Link", "PageInfo", "ParsedPage", "__version__", "extract_links", "parse_page"]
