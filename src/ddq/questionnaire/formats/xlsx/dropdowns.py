"""Dropdowns (list data validations, also x14 ones that refer to another sheet or a
defined name) and text-length rules, by cell."""

from __future__ import annotations

import re
from typing import Any, Generic, TypeVar

from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from ddq.questionnaire.formats.xlsx.values import _MAX_COLUMN, _MAX_ROW, _text

_MAX_LIST_VALUES = 500  # a dropdown source range longer than this is not a real answer list



_RANGE_REF = re.compile(
    r"(?:(?:'(?P<quoted>(?:[^']|'')+)'|(?P<plain>[^'!\[\]]+))!)?"
    r"(?P<range>\$?[A-Za-z]{1,3}\$?\d+(?::\$?[A-Za-z]{1,3}\$?\d+)?"
    r"|\$?[A-Za-z]{1,3}:\$?[A-Za-z]{1,3})"
)


class _ListResolver:
    """Turns a list validation's formula into the values it offers, from the saved values."""

    def __init__(self, workbook: Workbook) -> None:
        self._workbook = workbook
        self._cache: dict[tuple[str, str], tuple[str, ...] | None] = {}

    def values(self, formula: str, sheet: str) -> tuple[str, ...] | None:
        key = (formula, sheet)
        if key not in self._cache:
            self._cache[key] = self._resolve(formula.strip().lstrip("="), sheet, depth=0)
        return self._cache[key]

    def _resolve(self, formula: str, sheet: str, depth: int) -> tuple[str, ...] | None:
        if formula.startswith('"') and formula.endswith('"') and len(formula) >= 2:
            items = formula[1:-1].replace('""', '"').split(",")
            return tuple(dict.fromkeys(i.strip() for i in items if i.strip()))
        match = _RANGE_REF.fullmatch(formula)
        if match:
            name = match.group("quoted")
            name = name.replace("''", "'") if name else (match.group("plain") or sheet)
            return self._range_values(name.strip(), match.group("range"))
        if depth < 3 and re.fullmatch(r"[A-Za-z_\\][\w.\\]*", formula):
            target = self._defined_name(formula, sheet)
            return self._resolve(target, sheet, depth + 1) if target else None
        return None

    def _defined_name(self, name: str, sheet: str) -> str | None:
        scopes: list[Any] = []
        if sheet in self._workbook.sheetnames:
            scopes.append(getattr(self._workbook[sheet], "defined_names", {}))
        scopes.append(self._workbook.defined_names)
        for scope in scopes:
            for key, defined in scope.items():
                if key.casefold() == name.casefold() and defined.attr_text:
                    return str(defined.attr_text).lstrip("=")
        return None

    def _range_values(self, sheet: str, cells: str) -> tuple[str, ...] | None:
        if sheet not in self._workbook.sheetnames:
            return None
        worksheet = self._workbook[sheet]
        if not isinstance(worksheet, Worksheet):
            return None
        min_col, min_row, max_col, max_row = range_boundaries(cells.replace("$", ""))
        min_row = min_row or 1
        max_row = min(max_row or worksheet.max_row, worksheet.max_row)
        if min_col is None or max_col is None:
            return None
        if (max_row - min_row + 1) * (max_col - min_col + 1) > _MAX_LIST_VALUES:
            return None
        found: dict[str, None] = {}
        for row in worksheet.iter_rows(
            min_row=min_row, max_row=max_row, min_col=min_col, max_col=max_col, values_only=True
        ):
            for value in row:
                text = _text(value).strip()
                if text:
                    found[text] = None
        return tuple(found)


_Rule = TypeVar("_Rule")


class _Dropdowns(Generic[_Rule]):
    """Which rule (a dropdown's list values, a text-length limit) applies to a cell, indexed
    by column for quick lookups."""

    def __init__(self, max_row: int, max_column: int) -> None:
        self._max_row = max_row
        self._max_column = max_column
        self._by_column: dict[int, list[tuple[int, int, _Rule | None]]] = {}

    def add(self, sqref: str, values: _Rule | None) -> None:
        for piece in sqref.replace("$", "").split():
            try:
                min_col, min_row, max_col, max_row = range_boundaries(piece)
            except (ValueError, TypeError):
                continue
            first_col, last_col = min_col or 1, min(max_col or self._max_column, _MAX_COLUMN)
            last_col = min(last_col, max(self._max_column, first_col))
            for column in range(first_col, last_col + 1):
                self._by_column.setdefault(column, []).append(
                    (min_row or 1, max_row or _MAX_ROW, values)
                )

    def at(self, row: int, column: int) -> _Rule | None:
        for first, last, values in self._by_column.get(column, ()):
            if first <= row <= last:
                return values
        return None

    def __bool__(self) -> bool:
        return bool(self._by_column)
