"""Reading an import file into records, with everything detected from its content.

Exports reach us from Excel, Google Sheets, Ahrefs (UTF-16 and tabs), Search Console (some
with CR-only line endings) and hand-edited files, and users do not know which encoding or
delimiter they have, so nothing here trusts the file name. Records keep their physical line
number (header = line 1) because that is what users see in an editor when we name a bad row.

Decoding never fails: undecodable bytes become `UNDECODABLE`, so the row that holds them can
be named and refused (or skipped) while the rest of the file is still checked.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# A lone surrogate never comes out of a strict decoder, so it cannot be mistaken for text.
UNDECODABLE = "\udcff"
_ERRORS = "linkcrawler-undecodable"


def _mark_undecodable(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return UNDECODABLE, exc.end


codecs.register_error(_ERRORS, _mark_undecodable)

# Fields of several megabytes happen (page text pasted into a notes column).
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

_SNIFF_BYTES = 64 * 1024
_DELIMITERS = {"\t": "tab", ";": "semicolon", ",": "comma"}
_SEP_HINT = re.compile(r"^\s*sep=(.)\s*$", re.IGNORECASE)  # Excel's "sep=;" first line


@dataclass(frozen=True, slots=True)
class Record:
    """One row of a file: its physical line (or spreadsheet row) and its cells."""

    line: int
    cells: tuple[str, ...]
    error: str | None = None  # set when the row itself could not be read


@dataclass(frozen=True, slots=True)
class Layout:
    """What was detected about a text file, for the summary and for reading it."""

    encoding: str  # Python codec name
    encoding_label: str  # for humans: "UTF-16 LE with BOM"
    line_ending: str  # "LF", "CRLF", "CR", "mixed" or "none"
    delimiter: str | None  # None for a one-column file

    def describe(self, *, delimited: bool = True) -> str:
        parts = [self.encoding_label]
        if self.delimiter and delimited:
            parts.append(f"{_DELIMITERS.get(self.delimiter, repr(self.delimiter))}-separated")
        if self.line_ending != "none":
            parts.append(f"{self.line_ending} line endings")
        return ", ".join(parts)


class UnreadableFile(Exception):
    """The file cannot be read as a table at all (legacy .xls, empty, damaged XLSX)."""


def is_xlsx(path: Path) -> bool:
    with path.open("rb") as f:
        head = f.read(4)
    if head != b"PK\x03\x04":
        return False
    try:
        with zipfile.ZipFile(path) as z:
            return "xl/workbook.xml" in z.namelist()
    except zipfile.BadZipFile:
        return False


def refuse_binary(path: Path) -> None:
    """Refuse formats we recognise but cannot read, with what to do instead."""
    with path.open("rb") as f:
        head = f.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFile("this is a legacy Excel .xls file: save it as .xlsx or CSV and import that")
    if head.startswith(b"PK\x03\x04") and not is_xlsx(path):
        raise UnreadableFile("this is a ZIP archive but not an XLSX workbook: unpack it and import the CSV inside")


def sniff_encoding(head: bytes) -> tuple[str, str]:
    """(codec, label) from a BOM, else from the NUL pattern of BOM-less UTF-16, else UTF-8."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "UTF-8 with BOM"
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16", "UTF-16 LE with BOM"
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16", "UTF-16 BE with BOM"
    sample = head[:4096]
    if len(sample) >= 4:
        # Mostly-ASCII UTF-16 has a NUL in every other byte; UTF-8 text has none at all.
        even_nuls = sample[0::2].count(0)
        odd_nuls = sample[1::2].count(0)
        half = len(sample) // 2
        if odd_nuls > half * 0.6 and even_nuls < half * 0.1:
            return "utf-16-le", "UTF-16 LE without BOM"
        if even_nuls > half * 0.6 and odd_nuls < half * 0.1:
            return "utf-16-be", "UTF-16 BE without BOM"
    return "utf-8", "UTF-8"


def _line_ending(text: str) -> str:
    crlf = text.count("\r\n")
    cr = text.count("\r") - crlf
    lf = text.count("\n") - crlf
    kinds = [name for name, n in (("CRLF", crlf), ("CR", cr), ("LF", lf)) if n]
    if not kinds:
        return "none"
    return kinds[0] if len(kinds) == 1 else "mixed"


def _split_lines(text: str) -> list[str]:
    # str.splitlines() would also split on \v, \f, \x1c-\x1e, \x85, U+2028/9 inside cells.
    return re.split(r"\r\n|\r|\n", text)


def _delimiter_of(header: str) -> str | None:
    """The delimiter is the candidate the header line uses most (headers rarely contain them)."""
    counts = {d: _count_outside_quotes(header, d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])  # dict order breaks ties: tab, semicolon, comma
    return best if counts[best] else None


def _count_outside_quotes(line: str, char: str) -> int:
    n = 0
    quoted = False
    for c in line:
        if c == '"':
            quoted = not quoted
        elif c == char and not quoted:
            n += 1
    return n


class TextTable:
    """A delimited text file (or a plain list of lines), read as a stream of records."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with path.open("rb") as f:
            head = f.read(_SNIFF_BYTES)
        if not head.strip():
            raise UnreadableFile("the file is empty")
        encoding, label = sniff_encoding(head)
        # The sniffed head may end inside a character: decode it leniently, only to look.
        text = head.decode(encoding, errors="replace")
        lines = _split_lines(text)
        self.sep_hint_line = 0
        first = next((i for i, line in enumerate(lines) if line.strip()), 0)
        delimiter: str | None
        hint = _SEP_HINT.match(lines[first]) if lines else None
        if hint and hint.group(1) in _DELIMITERS:
            delimiter = hint.group(1)
            self.sep_hint_line = first + 1
            first = next((i for i in range(first + 1, len(lines)) if lines[i].strip()), first)
        else:
            delimiter = _delimiter_of(lines[first].lstrip("\ufeff")) if lines else None
        self.first_line_text = lines[first].lstrip("\ufeff").strip() if lines else ""
        self.layout = Layout(encoding, label, _line_ending(text), delimiter)

    def _open(self) -> io.TextIOWrapper:
        # newline="" hands \r, \n and \r\n to the csv module untranslated, which is what
        # lets quoted cells hold line breaks and CR-only files still split into lines.
        raw = self.path.open("rb")
        return io.TextIOWrapper(raw, encoding=self.layout.encoding, errors=_ERRORS, newline="")

    def lines(self) -> Iterator[Record]:
        """Each physical line as a one-cell record (for plain URL lists)."""
        with self._open() as f:
            for n, line in enumerate(f, 1):
                text = line.rstrip("\r\n")
                if n == 1:
                    text = text.lstrip("\ufeff")
                if UNDECODABLE in text:
                    yield Record(n, (text,), _undecodable(self.layout))
                elif "\x00" in text:
                    yield Record(n, (text,), "a NUL character (is this a binary file?)")
                else:
                    yield Record(n, (text,))

    def records(self) -> Iterator[Record]:
        """CSV records with the physical line each starts on; blank lines are left out."""
        with self._open() as f:
            marked: list[str | None] = [None]

            def watched() -> Iterator[str]:
                for line in f:
                    if UNDECODABLE in line:
                        marked[0] = _undecodable(self.layout)
                    elif "\x00" in line:
                        # No database text column takes NUL (PostgreSQL refuses it outright).
                        marked[0] = "a NUL character (is this a binary file?)"
                    yield line

            reader = csv.reader(watched(), delimiter=self.layout.delimiter or ",")
            start = 1
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    yield Record(start, (), f"unreadable CSV ({exc})")
                    start = reader.line_num + 1
                    marked[0] = None
                    continue
                line, start = start, reader.line_num + 1
                if self.sep_hint_line and line == self.sep_hint_line:
                    continue
                if marked[0]:
                    yield Record(line, tuple(cells), marked[0])
                    marked[0] = None
                    continue
                if line == 1 and cells:
                    cells[0] = cells[0].lstrip("\ufeff")
                if not any(c.strip() for c in cells):
                    continue
                yield Record(line, tuple(cells))


def _undecodable(layout: Layout) -> str:
    return f"undecodable bytes (the file was read as {layout.encoding_label})"


def xlsx_cell_text(value: object) -> str:
    """The text of a spreadsheet cell as the same value would appear in a CSV export."""
    import datetime as dt

    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
