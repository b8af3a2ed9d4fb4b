"""XLSX workbooks: the same exports saved from Excel or downloaded as "Excel" from the tools.

openpyxl's read-only mode streams rows instead of building the whole workbook in memory.
Records carry the spreadsheet row number, which is what users see in Excel.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from linkcrawler.importers.detect import Record, UnreadableFile, xlsx_cell_text


class XlsxTable:
    def __init__(self, path: Path, sheet: str | None = None) -> None:
        self.path = path
        self.sheet = sheet

    def sheet_names(self) -> list[str]:
        wb = self._workbook()
        try:
            return list(wb.sheetnames)
        finally:
            wb.close()

    def _workbook(self):  # -> openpyxl.Workbook
        import openpyxl

        try:
            return openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for damaged files
            raise UnreadableFile(f"cannot read the XLSX workbook: {exc}") from exc

    def records(self) -> Iterator[Record]:
        wb = self._workbook()
        try:
            ws = wb[self.sheet] if self.sheet else wb.worksheets[0]
            # A workbook saved by some tools carries a stale dimension; recompute it.
            if hasattr(ws, "reset_dimensions"):
                ws.reset_dimensions()
            for n, values in enumerate(ws.iter_rows(min_row=1, values_only=True), 1):
                cells = [xlsx_cell_text(v) for v in values]
                while cells and not cells[-1].strip():
                    cells.pop()
                if not cells:
                    continue
                if n == 1:
                    cells[0] = cells[0].lstrip("\ufeff")
                yield Record(n, tuple(cells))
        finally:
            wb.close()

    def lines(self) -> Iterator[Record]:
        """The first column of each row (a plain URL list saved as a workbook)."""
        for record in self.records():
            yield Record(record.line, record.cells[:1])
