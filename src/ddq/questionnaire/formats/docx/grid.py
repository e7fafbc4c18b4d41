"""A Word table's grid: the cell at each grid column of a row, spans and vertical merges."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ddq.questionnaire.formats.docx.body_xml import W_TC, Element, cell_text, val, w

if TYPE_CHECKING:
    pass


def _grid(tr: Element) -> list[Element | None]:
    """The row's cell per grid column: a spanned cell repeats; skipped columns are None."""
    cells: list[Element | None] = []
    before = val(tr.find(f"{w('trPr')}/{w('gridBefore')}"))
    cells.extend([None] * (int(before) if before and before.isdigit() else 0))
    for tc in tr.iterchildren(W_TC):
        span = val(tc.find(f"{w('tcPr')}/{w('gridSpan')}"))
        cells.extend([tc] * (int(span) if span and span.isdigit() and int(span) > 0 else 1))
    return cells


def _continues_merge(tc: Element) -> bool:
    v_merge = tc.find(f"{w('tcPr')}/{w('vMerge')}")
    return v_merge is not None and val(v_merge) != "restart"


def _merge_origin(rows: Sequence[Element], row: int, col: int) -> Element | None:
    """The cell a vertically merged grid position shows: the first one of the merge."""
    for index in range(row, -1, -1):
        grid = _grid(rows[index])
        tc = grid[col] if col < len(grid) else None
        if tc is None or not _continues_merge(tc):
            return tc
    return None


def _merged_across(grid: Sequence[Element | None]) -> bool:
    cells = [tc for tc in grid if tc is not None]
    return len(grid) > 1 and len(cells) == len(grid) and len({id(tc) for tc in cells}) == 1


def _header_texts(grid: Sequence[Element | None]) -> list[str]:
    texts: list[str] = []
    previous: Element | None = None
    for tc in grid:
        texts.append("" if tc is None or tc is previous else cell_text(tc))
        previous = tc
    return texts
