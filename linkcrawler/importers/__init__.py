"""Reading backlink lists from every tool users already have (issue 5, DESIGN §4).

`open_import(path, ...)` looks at the file (container, encoding, delimiter, header row),
decides the format and returns an `ImportFile` whose `items()` streams one ImportRow,
BadRow or IgnoredRow per data row. Nothing here touches the database: the `import`
command decides, from the bad rows, whether anything is stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from linkcrawler.errors import UsageError
from linkcrawler.importers.detect import Record, TextTable, UnreadableFile, is_xlsx, refuse_binary
from linkcrawler.importers.formats import (
    BY_NAME,
    FORMATS,
    URLS,
    Format,
    UnknownFormat,
    detect,
    header_key,
    match_columns,
)
from linkcrawler.importers.rows import BadRow, IgnoredRow, ImportRow, RowBuilder, url_list_row
from linkcrawler.importers.xlsx import XlsxTable
from linkcrawler.urls import Target, parse_target

__all__ = [
    "FORMAT_NAMES",
    "BadRow",
    "IgnoredRow",
    "ImportFile",
    "ImportRow",
    "RefusedFile",
    "open_import",
]

FORMAT_NAMES = ("auto", *(f.name for f in FORMATS))
_URL_START = re.compile(r"^\s*https?://", re.IGNORECASE)
_URL_LIST_HEADERS = frozenset({"url", "urls", "sourceurl", "sourceurls", "page", "pageurl"})
# Whitespace then "#": a URL cannot contain whitespace, so this is a trailing comment.
_TRAILING_COMMENT = re.compile(r"\s+#.*$")


class RefusedFile(UsageError):
    """The file as a whole cannot be imported (unknown format, missing --target...)."""


@dataclass(frozen=True)
class ImportFile:
    path: Path
    format: Format
    layout: str  # "UTF-16 LE with BOM, tab-separated, CRLF line endings" / "XLSX, sheet 'x'"
    header: tuple[str, ...]  # () for a URL list without a header
    columns: Mapping[str, int]
    _records: Callable[[], Iterator[Record]]
    _builder: RowBuilder | None
    _target: Target | None
    _tags: tuple[str, ...]

    def items(self) -> Iterator[ImportRow | BadRow | IgnoredRow]:
        if self.format is URLS:
            yield from _url_list_items(self._records(), self._target, self._tags)
            return
        assert self._builder is not None
        build = self._builder.build
        records = self._records()
        next(records, None)  # the header row
        for record in records:
            yield build(record)


def open_import(
    path: str | Path,
    *,
    format: str = "auto",
    target: str | None = None,
    tags: tuple[str, ...] = (),
) -> ImportFile:
    """Inspect `path` and prepare to read it; RefusedFile says why it cannot be imported."""
    path = Path(path)
    if not path.is_file():
        raise RefusedFile(f"{path}: no such file")
    if format not in FORMAT_NAMES:
        raise RefusedFile(f"unknown --format {format!r}: use one of {', '.join(FORMAT_NAMES)}")
    default_target = _parse_target_option(target)
    for tag in tags:
        if not tag.strip() or len(tag) > 200:
            raise RefusedFile(f"--tag {tag!r}: a tag is 1 to 200 characters")
    tags = tuple(dict.fromkeys(t.strip() for t in tags))
    try:
        refuse_binary(path)
        if is_xlsx(path):
            table: TextTable | XlsxTable = _pick_sheet(path) if format == "auto" else XlsxTable(path)
            layout = f"XLSX workbook, sheet {table.sheet!r}" if table.sheet else "XLSX workbook"
        else:
            table = TextTable(path)
            layout = table.layout.describe()
    except UnreadableFile as exc:
        raise RefusedFile(f"{path}: {exc}") from None

    if format == "urls" or (format == "auto" and _looks_like_url_list(table)):
        _require_target(URLS, default_target)
        if isinstance(table, TextTable):
            layout = table.layout.describe(delimited=False)
        return ImportFile(path, URLS, layout, (), {}, table.lines, None, default_target, tags)

    header_record = next(iter(table.records()), None)
    if header_record is None:
        raise RefusedFile(f"{path}: the file has no rows")
    if header_record.error:
        raise RefusedFile(f"{path}: line {header_record.line}: the header row has {header_record.error}")
    header = header_record.cells
    try:
        if format == "auto":
            detected = detect(header)
            fmt, columns = detected.format, detected.columns
        else:
            fmt = BY_NAME[format]
            columns = match_columns(fmt, header)
    except UnknownFormat as exc:
        raise RefusedFile(f"{path}: {exc}") from None
    if "source" not in columns:
        raise RefusedFile(
            f"{path}: the header row has no {fmt.name} source column ({' | '.join(fmt.columns['source'])}); "
            f"it has: {', '.join(repr(h) for h in header)}"
        )
    if "target" not in columns:
        _require_target(fmt, default_target)
    builder = RowBuilder(
        fmt,
        columns,
        len(header),
        default_target=default_target,
        tags=tags,
        check_width=isinstance(table, TextTable),
    )
    return ImportFile(path, fmt, layout, header, columns, table.records, builder, default_target, tags)


def _pick_sheet(path: Path) -> XlsxTable:
    """The first sheet whose header row we recognise: some tools put a summary or the
    applied filters on a sheet of their own, not always after the data."""
    names = XlsxTable(path).sheet_names()
    if len(names) > 1:
        for name in names:
            table = XlsxTable(path, name)
            first = next(iter(table.records()), None)
            if first is None:
                continue
            if _looks_like_url_list(table):
                return table
            try:
                detect(first.cells)
            except UnknownFormat:
                continue
            return table
    return XlsxTable(path)


def _parse_target_option(target: str | None) -> Target | None:
    if target is None:
        return None
    try:
        return parse_target(target)
    except ValueError as exc:
        raise RefusedFile(f"--target: {exc}") from None


def _require_target(fmt: Format, target: Target | None) -> None:
    if target is not None:
        return
    if fmt.has_target:
        raise RefusedFile(
            f"this {fmt.title} has no target column ({' | '.join(fmt.columns['target'])}): "
            "pass --target URL_OR_DOMAIN"
        )
    raise RefusedFile(
        f"a {fmt.title} does not name the page being linked to: pass --target URL_OR_DOMAIN "
        "(e.g. --target example.com, or --target https://example.com/page)"
    )


def _looks_like_url_list(table: TextTable | XlsxTable) -> bool:
    if isinstance(table, TextTable):
        first = table.first_line_text
    else:
        first_record = next(iter(table.records()), None)
        if first_record is None or len(first_record.cells) != 1:
            return False
        first = first_record.cells[0].strip()
    if first.startswith("#") or _URL_START.match(first):
        return True
    return header_key(first) in _URL_LIST_HEADERS


def _url_list_items(
    records: Iterator[Record], target: Target | None, tags: tuple[str, ...]
) -> Iterator[ImportRow | BadRow]:
    assert target is not None
    seen_content = False
    for record in records:
        if record.error:
            yield BadRow(record.line, record.error)
            continue
        text = record.cells[0].strip() if record.cells else ""
        if not text or text.startswith("#"):
            continue
        text = _TRAILING_COMMENT.sub("", text)
        if not seen_content:
            seen_content = True
            if header_key(text) in _URL_LIST_HEADERS:
                continue
        yield url_list_row(record.line, text, target, tags)

