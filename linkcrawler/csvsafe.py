"""CSV cells that spreadsheets will not run as formulas (CWE-1236).

Every CSV we write (backlinks, export, changes) holds text that came from the web: anchor
texts, titles, URLs. A cell starting with = + - @ (or a tab / carriage return, which some
spreadsheet programs skip before looking for those) would be evaluated by Excel or
LibreOffice, so such cells get a leading apostrophe, which spreadsheets show as plain text.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
from collections.abc import Iterable
from typing import Any, TextIO

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """The text of one CSV cell, neutralised if a spreadsheet would read it as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)) and not isinstance(value, enum.Enum):
        # A number is never a formula, and "-3" must stay a number for the spreadsheet.
        return str(value)
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    if text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


class SafeWriter:
    """A csv.writer whose every cell goes through `safe_cell`."""

    def __init__(self, file: TextIO, **fmtparams: Any) -> None:
        fmtparams.setdefault("lineterminator", "\n")
        self._writer = csv.writer(file, **fmtparams)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(file: TextIO, **fmtparams: Any) -> SafeWriter:
    """A CSV writer for `file` (LF line endings unless `lineterminator` is given)."""
    return SafeWriter(file, **fmtparams)
