"""Writing the answers into a copy: every ref resolved against the document as it was read,
every check-box value checked before anything changes, then only word/document.xml is
replaced in the package (see ``ooxml.copy_with_parts``)."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ddq.errors import DDQError, ErrorCode
from ddq.forms import ExtractOptions
from ddq.questionnaire.detect.choices import choice_columns, choice_marks, is_marked, marked_row
from ddq.questionnaire.formats.docx.body_xml import (
    W_P,
    W_TBL,
    W_TR,
    Element,
    cell_paragraphs,
    cell_text,
)
from ddq.questionnaire.formats.docx.boxes import Choice, choice_in, lone_box, set_box
from ddq.questionnaire.formats.docx.editing import (
    _clean_value,
    _Convention,
    _insert_after,
    _look_of,
    _write_below,
    _write_cell,
    _write_paragraph,
)
from ddq.questionnaire.formats.docx.grid import _grid, _merge_origin
from ddq.questionnaire.formats.docx.reading import _convention, _open, _scan
from ddq.questionnaire.ooxml import check_package, copy_with_parts, refuse_overwrite

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument
_REF = re.compile(r"^(?:(?P<kind>paragraph|after):(?P<p>\d+)"
                  r"|table:(?P<t>\d+):(?P<row>\d+):(?P<col>\d+)"
                  r"(?:(?P<below>:below)|-(?P<last>\d+))?)$")


def _boxes_at(kind: str, element: Element) -> Choice | None:
    if kind == "paragraph":
        return choice_in([element])
    if kind in ("cell", "below"):
        return choice_in(cell_paragraphs(element))
    return None


def _convention_of(document: DocxDocument) -> _Convention:
    try:
        model = _convention(_scan(document, ExtractOptions()))
    except DDQError:
        model = None
    return _Convention(None, None) if model is None else _look_of(model)


def _bad_ref(ref: str, why: str) -> DDQError:
    return DDQError(ErrorCode.INVALID_INPUT, f"{ref!r}: {why}")


def _resolve(ref: str, paragraphs: Sequence[Element], tables: Sequence[Element]
             ) -> tuple[str, Element]:
    """The element an answer ref names, in the document as it was read."""
    match = _REF.match(ref)
    if match is None:
        raise _bad_ref(ref, "not a DOCX answer place (paragraph:<p>, after:<p>, "
                            "table:<t>:<row>:<col> or table:<t>:<row>:<col>:below)")
    if match.group("kind"):
        index = int(match.group("p"))
        if index >= len(paragraphs):
            raise _bad_ref(ref, f"the document has {len(paragraphs)} paragraphs")
        return match.group("kind"), paragraphs[index]
    t, row, col = int(match.group("t")), int(match.group("row")), int(match.group("col"))
    if t >= len(tables):
        raise _bad_ref(ref, f"the document has {len(tables)} tables")
    rows = list(tables[t].iterchildren(W_TR))
    if row >= len(rows):
        raise _bad_ref(ref, f"table {t} has {len(rows)} rows")
    cell = _merge_origin(rows, row, col) if col < len(_grid(rows[row])) else None
    if cell is None:
        raise _bad_ref(ref, f"table {t}, row {row} has no cell in column {col}")
    if match.group("last"):
        return "choices", rows[row]
    return ("below" if match.group("below") else "cell"), cell


_ChoiceHeader = tuple[int, list[str], tuple[str, str]]  # header row, its names, the marks


def _choice_marks(ref: str, tr: Element, value: str,
                  known: dict[tuple[int, int, int], _ChoiceHeader]) -> list[tuple[Element, str]]:
    """What a row of choice cells ("Yes | No | N/A" columns) holds once ``value`` is marked:
    the form's own mark in the cell under that header, the other cells blank (see
    ``choice_marks``); "" clears them all. ``known`` keeps each table's choice header."""
    match = _REF.match(ref)
    first, last = (int(match.group("col")), int(match.group("last"))) if match else (0, 0)
    if not first < last <= first + _MAX_CHOICES:
        raise _bad_ref(ref, "a range of choice cells is part of one row, e.g. table:0:3:1-3")
    table = tr.getparent()
    rows = list(table.iterchildren(W_TR))
    at = rows.index(tr)

    def texts(row: int) -> list[str]:
        cells = (_merge_origin(rows, row, column) for column in range(first, last + 1))
        return [cell_text(c).strip() if c is not None else "" for c in cells]

    found = known.get((id(table), first, last))
    if found is None or found[0] >= at:
        found = None
        for row in reversed(range(at)):
            above = texts(row)
            if all(above) and choice_columns(dict(enumerate(above))):
                found = (row, above, choice_marks(text for below in range(row + 1, len(rows))
                                                  for text in texts(below)))
                known[(id(table), first, last)] = found
                break
    cells = [_merge_origin(rows, at, column) for column in range(first, last + 1)]
    if found is None or any(cell is None for cell in cells):
        raise _bad_ref(ref, "no header row above these cells names the choices "
                            "(e.g. Yes / No / N/A)")
    _, header, marks = found
    return [(cell, text) for cell, text in zip(cells, marked_row(ref, header, value, marks),
                                                strict=True) if cell is not None]


_MAX_CHOICES = 12  # cells one range of choices may span


def write_docx(src: Path, dst: Path, values: Mapping[str, str]) -> int:
    """Write ``values`` (by answer ref) into a copy of ``src`` at ``dst``; see module docs.

    Every ref is resolved against the document as it was read before anything is inserted,
    so "after:" paragraphs never shift the others. Returns the number of values written.
    """
    refuse_overwrite(src, dst)
    check_package(src, "DOCX")
    document = _open(src)
    body = document.element.body
    paragraphs = list(body.iterchildren(W_P))
    tables = list(body.iterchildren(W_TBL))
    places = [(ref, *_resolve(ref, paragraphs, tables), _clean_value(value))
              for ref, value in values.items()]
    # Every check-box place is checked before anything changes: a bad value writes nothing.
    ticks: dict[str, tuple[Choice, int]] = {}
    boxes_below: dict[str, Choice] = {}
    marks: dict[str, list[tuple[Element, str]]] = {}
    choice_headers: dict[tuple[int, int, int], _ChoiceHeader] = {}
    for ref, kind, element, text in places:
        if kind == "choices":
            marks[ref] = _choice_marks(ref, element, text, choice_headers)
            continue
        boxes = _boxes_at(kind, element)
        if kind == "below":
            if boxes is None:
                raise _bad_ref(ref, "the cell has no check boxes to write below")
            boxes_below[ref] = boxes
        elif boxes is not None:
            index = boxes.index_of(text)
            if index is None:
                raise _bad_ref(ref, f"the answer place is a set of check boxes "
                                    f"({' / '.join(boxes.labels)}); {text!r} is none of them")
            ticks[ref] = (boxes, index)
    convention = (_convention_of(document) if any(p[1] == "after" for p in places)
                  else _Convention(None, None))
    writers: dict[str, Callable[[Element, str], None]] = {
        "paragraph": _write_paragraph, "cell": _write_cell,
        "after": lambda element, text: _insert_after(element, text, convention),
    }
    for ref, kind, element, text in places:
        if ref in marks:
            for cell, mark in marks[ref]:
                box = lone_box(cell_paragraphs(cell))
                if box is not None:  # a check box in each choice cell: tick it, keep it
                    set_box(box, is_marked(mark))
                else:
                    _write_cell(cell, mark)
        elif ref in ticks:
            boxes, index = ticks[ref]
            boxes.tick(index)
        elif ref in boxes_below:
            _write_below(element, boxes_below[ref], text)
        else:
            writers[kind](element, text)
    part = document.part
    try:
        with zipfile.ZipFile(src) as package:
            copy_with_parts(package, dst, {str(part.partname).lstrip("/"): part.blob})
    except OSError as exc:
        raise DDQError(ErrorCode.INVALID_INPUT, f"{dst}: cannot write the answered copy "
                                                f"({exc.strerror or exc})") from exc
    return len(places)
