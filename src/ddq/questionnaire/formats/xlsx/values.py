"""Cell values as Excel shows them, cell names, and the sizes a workbook allows."""

from __future__ import annotations

from datetime import date, datetime, time

from openpyxl.utils.cell import get_column_letter

_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_MAX_COLUMN = 16_384
_MAX_ROW = 1_048_576
_MAX_CELL_TEXT = 32_767  # what one Excel cell holds

CellKey = tuple[int, int]  # (row, column), both 1-based
Bounds = tuple[int, int, int, int]  # min_row, min_col, max_row, max_col




def _text(value: object) -> str:
    """A cell's saved value as the text Excel would show for it (without number formats)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _clean(value: object) -> str:
    """Cell text with runs of whitespace (line breaks included) folded to one space."""
    return " ".join(_text(value).split())


def _cell_name(row: int, column: int) -> str:
    return f"{get_column_letter(column)}{row}"


def _why(exc: BaseException) -> str:
    detail = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
