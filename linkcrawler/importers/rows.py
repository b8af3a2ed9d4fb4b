"""Turning records into the values that cross into storage: ImportRow, or BadRow with why.

A row is checked completely (every problem is named, not just the first) because users fix
the whole file in one go. Reported values are kept in the tool's own terms, typed where the
type is certain (booleans, ISO dates, numbers) and as the original text where it is not, so
nothing the tool said is lost to a guess.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from linkcrawler.enums import ExpectedRel
from linkcrawler.importers.detect import Record
from linkcrawler.importers.formats import Format, Kind
from linkcrawler.urls import Target, host_of, normalize_url, parse_target

MAX_TAG_LENGTH = 200  # BacklinkTag.tag
_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One expected backlink read from a file, checked and normalised."""

    line: int
    source_url: str  # as in the file, trimmed
    page_url: str  # normalize_url(source_url): the page we fetch
    page_host: str
    target: Target
    expected_anchor: str | None = None
    expected_rel: ExpectedRel | None = None
    expires: dt.date | None = None
    notes: str | None = None
    tags: tuple[str, ...] = ()
    reported: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)  # what the tool said


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class IgnoredRow:
    """A row that is fine but is not a backlink (e.g. a Screaming Frog image or CSS link)."""

    line: int
    reason: str


_TRUE = frozenset({"true", "yes", "y", "1", "+", "x", "on"})
_FALSE = frozenset({"false", "no", "n", "0", "-", "off"})
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")
# Only unambiguous layouts: 03/04/2024 could be March or April, so it is kept as text.
_OTHER_DATE_FORMATS = ("%d.%m.%Y", "%Y/%m/%d", "%b %d, %Y", "%d %b %Y", "%B %d, %Y", "%d %B %Y")
_STRICT_DATE = re.compile(r"\d{4}-\d{2}-\d{2}$")


def reported_value(kind: Kind, text: str) -> Any:
    if kind is Kind.BOOL:
        low = text.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        return text
    if kind is Kind.DATE:
        return _tool_date(text)
    if kind is Kind.NUMBER:
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() and "." not in text else number
    return text


def _tool_date(text: str) -> str:
    m = _ISO_DATE.match(text)
    if m:
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
        except ValueError:
            return text
    for fmt in _OTHER_DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return text


def _shorten(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


class RowBuilder:
    """Builds rows of one file: the column positions are worked out once, not per row."""

    def __init__(
        self,
        fmt: Format,
        columns: Mapping[str, int],
        header_width: int,
        *,
        default_target: Target | None,
        tags: tuple[str, ...] = (),
        check_width: bool = True,
    ) -> None:
        self.fmt = fmt
        self.header_width = header_width
        self.check_width = check_width
        self.default_target = default_target
        self.extra_tags = tags
        self.source_col = columns["source"]
        self.target_col = columns.get("target")
        self.link_kind_col = columns.get("link_kind")
        self.expect_cols = {
            name: columns[name]
            for name in ("expected_anchor", "expected_rel", "expires", "notes", "tags")
            if name in columns
        }
        self.reported_cols = tuple(
            (name, i, fmt.kinds.get(name, Kind.TEXT))
            for name, i in columns.items()
            if name in fmt.kinds and name != "link_kind"
        )
        # Exports repeat a few targets thousands of times: parse each distinct text once.
        self._targets: dict[str, Target | str] = {}

    def _target(self, text: str) -> Target | str:
        cached = self._targets.get(text)
        if cached is None:
            try:
                cached = parse_target(text)
            except ValueError as exc:
                cached = f"invalid target: {exc}"
            if len(self._targets) > 100_000:
                self._targets.clear()
            self._targets[text] = cached
        return cached

    def build(self, record: Record) -> ImportRow | BadRow | IgnoredRow:
        if record.error:
            return BadRow(record.line, record.error)
        cells = record.cells
        problems: list[str] = []
        width = len(cells)
        if width != self.header_width:
            if width < self.header_width and self.check_width:
                return BadRow(
                    record.line,
                    f"wrong number of columns: {width}, the header has {self.header_width}",
                )
            if width > self.header_width and any(c.strip() for c in cells[self.header_width:]):
                return BadRow(
                    record.line,
                    f"wrong number of columns: {width}, the header has {self.header_width}",
                )
            cells = (cells + ("",) * self.header_width)[: self.header_width]

        if self.link_kind_col is not None:
            kind = cells[self.link_kind_col].strip()
            if kind and kind.lower() != "hyperlink":
                return IgnoredRow(record.line, f"{kind} link, not a hyperlink")

        source = cells[self.source_col].strip()
        page_url = check_source(source, problems)

        target: Target | None = None
        target_text = cells[self.target_col].strip() if self.target_col is not None else ""
        if target_text:
            parsed = self._target(target_text)
            if isinstance(parsed, str):
                problems.append(parsed)
            else:
                target = parsed
        elif self.default_target is not None:
            target = self.default_target
        else:
            problems.append("no target (the target column is empty and no --target was given)")

        expected_anchor = expected_rel = expires = notes = None
        tags = self.extra_tags
        if self.expect_cols:
            get = self.expect_cols.get
            if (i := get("expected_anchor")) is not None:
                expected_anchor = cells[i].strip() or None
            if (i := get("expected_rel")) is not None and (text := cells[i].strip()):
                try:
                    expected_rel = ExpectedRel(text.lower())
                except ValueError:
                    problems.append(
                        f"expected_rel {_shorten(text)} is not one of "
                        + ", ".join(r.value for r in ExpectedRel)
                    )
            if (i := get("expires")) is not None and (text := cells[i].strip()):
                expires = _expiry_date(text)
                if expires is None:
                    problems.append(f"expires {_shorten(text)} is not a date (YYYY-MM-DD)")
            if (i := get("notes")) is not None:
                notes = cells[i].strip() or None
            if (i := get("tags")) is not None and (text := cells[i].strip()):
                row_tags = [t.strip() for t in text.split(";") if t.strip()]
                long = [t for t in row_tags if len(t) > MAX_TAG_LENGTH]
                if long:
                    problems.append(f"tag longer than {MAX_TAG_LENGTH} characters: {_shorten(long[0])}")
                tags = tuple(dict.fromkeys((*row_tags, *self.extra_tags)))

        if problems:
            return BadRow(record.line, "; ".join(problems))
        assert page_url is not None and target is not None

        reported: Mapping[str, Any] = _EMPTY
        if self.reported_cols:
            values = {}
            for name, i, kind in self.reported_cols:
                text = cells[i].strip()
                if text:
                    values[name] = reported_value(kind, text)
            if values:
                reported = MappingProxyType(values)

        return ImportRow(
            line=record.line,
            source_url=source,
            page_url=page_url,
            page_host=host_of(page_url),
            target=target,
            expected_anchor=expected_anchor,
            expected_rel=expected_rel,
            expires=expires,
            notes=notes,
            tags=tags,
            reported=reported,
        )


def check_source(source: str, problems: list[str]) -> str | None:
    """The normalised page URL of a source cell, or None with the problem appended."""
    if not source:
        problems.append("no source URL")
        return None
    page_url = normalize_url(source)
    if page_url is None:
        problems.append(f"source {_shorten(source)} is not an http(s) URL")
    return page_url


def url_list_row(line: int, source: str, target: Target, tags: tuple[str, ...]) -> ImportRow | BadRow:
    """A row of a plain URL list: the source only, the target from --target."""
    problems: list[str] = []
    page_url = check_source(source, problems)
    if page_url is None:
        return BadRow(line, problems[0])
    return ImportRow(line, source, page_url, host_of(page_url), target, tags=tags)


def _expiry_date(text: str) -> dt.date | None:
    if not _STRICT_DATE.match(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None
