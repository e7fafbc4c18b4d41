"""One sheet as read once: saved values, merges, dropdowns and text-length rules."""

from __future__ import annotations

from openpyxl.worksheet.worksheet import Worksheet

from ddq.forms import (
    ExtractOptions,
)
from ddq.questionnaire.formats.xlsx.dropdowns import _Dropdowns, _ListResolver
from ddq.questionnaire.formats.xlsx.package import _SheetXml
from ddq.questionnaire.formats.xlsx.values import Bounds, CellKey, _text


class _SheetCells:
    """One sheet as read once: its saved values by cell and row, merges, dropdowns and
    text-length rules."""

    def __init__(
        self,
        worksheet: Worksheet,
        xml: _SheetXml,
        options: ExtractOptions,
        lists: _ListResolver,
        warnings_out: list[str],
    ) -> None:
        self.ws = worksheet
        self.name = worksheet.title
        self.xml = xml
        self.options = options
        self.warnings = warnings_out
        self.values = self._read_values()
        self.by_row: dict[int, dict[int, object]] = {}
        for (row, column), value in sorted(self.values.items()):
            self.by_row.setdefault(row, {})[column] = value
        self.row_numbers = sorted(self.by_row)
        self.merged = self._read_merges()
        self.dropdowns = self._read_dropdowns(lists)
        self.limits = self._read_limits()
        self.header_rows: tuple[int, ...] = ()  # the header row(s), once find_columns has run
        self.last_section = ""  # the section column's value for the rows below it


    def _read_values(self) -> dict[CellKey, object]:
        """Non-empty saved values by (row, column); sparse, so a huge empty sheet is cheap."""
        cells = getattr(self.ws, "_cells", None)
        if isinstance(cells, dict):
            items = ((key, cell.value) for key, cell in cells.items())
        else:  # pragma: no cover - openpyxl internals changed
            items = (((c.row, c.column), c.value) for row in self.ws.iter_rows() for c in row)
        return {key: value for key, value in items if value is not None and _text(value).strip()}

    def _read_merges(self) -> dict[CellKey, Bounds]:
        merged: dict[CellKey, Bounds] = {}
        for cell_range in self.ws.merged_cells.ranges:
            bounds = (
                cell_range.min_row,
                cell_range.min_col,
                cell_range.max_row,
                cell_range.max_col,
            )
            for row in range(bounds[0], min(bounds[2], self.ws.max_row) + 1):
                for column in range(bounds[1], min(bounds[3], self.ws.max_column) + 1):
                    merged[(row, column)] = bounds
        return merged

    def _read_limits(self) -> _Dropdowns[int]:
        """Text-length rules ("at most 500 characters") by cell."""
        limits: _Dropdowns[int] = _Dropdowns(self.ws.max_row, self.ws.max_column)
        for dv in self.ws.data_validations.dataValidation:
            if dv.type != "textLength":
                continue
            bound = {"lessThanOrEqual": dv.formula1, "lessThan": dv.formula1,
                     "between": dv.formula2}.get(dv.operator or "between")
            if bound is not None and str(bound).strip().isdigit():
                limit = int(str(bound).strip()) - (1 if dv.operator == "lessThan" else 0)
                if limit > 0:
                    limits.add(str(dv.sqref), limit)
        return limits

    def _read_dropdowns(self, lists: _ListResolver) -> _Dropdowns[tuple[str, ...]]:
        dropdowns: _Dropdowns[tuple[str, ...]] = _Dropdowns(self.ws.max_row, self.ws.max_column)
        sources = [
            (str(dv.formula1 or ""), str(dv.sqref))
            for dv in self.ws.data_validations.dataValidation
            if dv.type == "list"
        ]
        for formula, sqref in sources + self.xml.x14_lists:
            values = lists.values(formula, self.name)
            if values is None:
                self.warnings.append(
                    f"sheet {self.name!r}: the dropdown on {sqref} uses {formula!r}, which DDQ "
                    "cannot resolve; its values are not checked"
                )
            dropdowns.add(sqref, values)
        return dropdowns

    def top_left(self, row: int, column: int) -> CellKey:
        bounds = self.merged.get((row, column))
        return (bounds[0], bounds[1]) if bounds else (row, column)

    def value(self, row: int, column: int) -> object:
        """The saved value, read from the top-left cell when the cell is merged."""
        return self.values.get(self.top_left(row, column))

    def bold(self, key: CellKey) -> bool:
        return bool(self.ws.cell(row=key[0], column=key[1]).font.b)

    def style_of(self, key: CellKey) -> tuple[object, ...]:
        cell = self.ws.cell(row=key[0], column=key[1])
        bounds = self.merged.get(key)
        width = bounds[3] - bounds[1] if bounds else 0
        return (bool(cell.font.b), cell.font.sz, str(cell.fill.fgColor.rgb), width)
