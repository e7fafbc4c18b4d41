"""Reading a sheet's rows: headings (nested by numbering or by look), questions with
their ids and sections, and each question's answer and notes places."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from openpyxl.utils.cell import get_column_letter

from ddq.forms import (
    YES_NO_VALUES,
    Target,
    TargetKind,
    TargetRole,
    value_kind,
)
from ddq.questionnaire.detect.choices import (
    YES_NO_ANSWERS,
    is_marked,
)
from ddq.questionnaire.detect.questions import (
    depth,
    is_placeholder,
    looks_like_question,
    numbered_inside,
    section_numbers,
    split_written_number,
    stated_limit,
)
from ddq.questionnaire.formats.xlsx.columns import _ColumnFinder, _Columns, _SkipSheet
from ddq.questionnaire.formats.xlsx.sheets import (
    answers_below,
)
from ddq.questionnaire.formats.xlsx.values import Bounds, CellKey, _cell_name, _clean, _text

_NUMBERED_HEADING = re.compile(r"(\d+(?:\.\d+)*)[.)]?\s+\S")


def _heading_like(text: str, bold: bool) -> bool:
    """Short label text: a section heading rather than an instruction sentence."""
    if not text or text.endswith("?"):
        return False
    if bold:
        return len(text) <= 120
    return len(text) <= 80 and len(text.split()) <= 10 and not text.endswith((".", ";", ","))


def _heading_level(text: str) -> int | None:
    match = _NUMBERED_HEADING.match(text)
    return match.group(1).count(".") + 1 if match else None


@dataclass(slots=True)
class _Found:
    """A question before its key is known (keys depend on every sheet)."""

    sheet: str
    text: str
    qid: str | None
    section: tuple[str, ...]
    cell: str
    answer: Target | None
    notes: Target | None
    row: int = 0



class _SheetReader(_ColumnFinder):
    """Walks a sheet's rows for headings and questions, once its columns are known."""


    def read(self) -> tuple[list[_Found], dict[str, Any]]:
        columns = self.find_columns()
        found: list[_Found] = []
        headings = _Headings()
        rows = [r for r in self.row_numbers
                if columns.header_row is None or r > columns.last_header_row]
        parents = {rows[i] for i in section_numbers([self.qid(r, columns) for r in rows])}
        kinds: list[str] = []  # per row with text in the question column, for answers_below
        for row in rows:
            kind, text, key = self._classify(row, columns, row in parents)
            if _clean(self.value(row, columns.question)):
                plain = kind == "skip" or (kind == "heading" and not self.bold(key)
                                           and (row, columns.question) not in self.merged)
                kinds.append("question" if kind == "question" else "text" if plain else kind)
            if kind == "heading":
                level = _heading_level(text)
                if level is None and row in parents:  # "1.2 | Encryption" is at level 2
                    level = depth(self.qid(row, columns))
                headings.add(text, level, self.style_of(key),
                             self.qid(row, columns) if row in parents else None)
            elif kind == "question":
                path = headings.path(self.qid(row, columns))
                found.append(self._question(row, key, text, columns, path))
                headings.question_seen()
        if columns.answer is None and not columns.choices and answers_below(kinds):
            raise _SkipSheet(
                f"sheet {self.name!r}: its answers are written in the question column, under "
                "each question, so they cannot be told from the questions; skipped")
        if columns.answer is None and not columns.choices and found:
            self.warnings.append(
                f"sheet {self.name!r}: no answer column found; its questions are listed "
                "without a place for the answers (name one with --answer-column)"
            )
        layout = self._layout(columns, found)
        if layout["yes_no_column"]:
            # No dropdown, but every answer is Yes or No: the place takes Yes/No/N/A.
            for item in found:
                if item.answer is not None and not item.answer.allowed:
                    item.answer = replace(item.answer, allowed=YES_NO_VALUES,
                                          kind=TargetKind.DROPDOWN)
        return found, layout

    def _classify(self, row: int, columns: _Columns, parent: bool = False
                  ) -> tuple[str, str, CellKey]:
        """("question" | "heading" | "skip", text, cell) for one row with content.

        ``parent`` says the row's id numbers the section of the next id ("1 | Access
        Control" above "1.1"): a label there is a heading, not a question.
        """
        skip = ("skip", "", (row, 0))
        bounds = self.merged.get((row, columns.question))
        if bounds is not None:
            if bounds[0] != row:
                return skip  # the lower part of a merge that started above
            if self._covers_role_column(bounds, columns):
                key = (bounds[0], bounds[1])
                text = _clean(self.values.get(key))
                return ("heading", text, key) if _heading_like(text, self.bold(key)) else skip
        key = self.top_left(row, columns.question)
        text = _clean(self.values.get(key))
        qid = self.qid(row, columns)
        if text:
            if (parent and not looks_like_question(text) and not self._answered(row, columns)
                    and _heading_like(text, self.bold(key))):
                return ("heading", text, key)
            if qid or self._answered(row, columns):
                return ("question", text, key)
            if looks_like_question(text) and (columns.id is None or text.endswith("?")):
                return ("question", text, key)
            return ("heading", text, key) if _heading_like(text, self.bold(key)) else skip
        lone = [(c, _clean(v)) for c, v in self.by_row.get(row, {}).items()]
        if len(lone) == 1 and lone[0][0] <= columns.question and lone[0][0] != columns.section:
            key = (row, lone[0][0])
            if _heading_like(lone[0][1], self.bold(key)):
                return ("heading", lone[0][1], key)
        return skip

    def _covers_role_column(self, bounds: Bounds, columns: _Columns) -> bool:
        others = [c for c in columns.roles().values() if c and c != columns.question]
        return any(bounds[1] <= c <= bounds[3] for c in others)

    def _answered(self, row: int, columns: _Columns) -> bool:
        if columns.choices:
            return any(is_marked(_clean(self.value(row, c))) for c, _ in columns.choices)
        if columns.answer is None or columns.answer_from_notes:
            return False
        bounds = self.merged.get((row, columns.answer))
        if bounds is not None and bounds[1] <= columns.question <= bounds[3]:
            return False
        value = _clean(self.value(row, columns.answer))
        return bool(value) and not is_placeholder(value)

    def qid(self, row: int, columns: _Columns) -> str:
        if columns.id is None or columns.id == columns.question:
            return ""
        text = _clean(self.value(row, columns.id))
        return text if len(text) <= 40 else ""

    def _question(
        self, row: int, key: CellKey, text: str, columns: _Columns, headings: tuple[str, ...]
    ) -> _Found:
        section = headings
        if columns.section is not None:
            # A blank section cell continues the group above ("Access Control" written once).
            value = _clean(self.value(row, columns.section)) or self.last_section
            self.last_section = value
            if value and (not section or section[-1] != value):
                section = (*section, value)
        answer = (self._choice_target(row, columns.choices, key) if columns.choices
                  else self._target(TargetRole.ANSWER, row, columns.answer, key))
        notes = self._target(TargetRole.NOTES, row, columns.notes, key)
        qid = self.qid(row, columns) or None
        if qid is None:  # "1.2 Do you ...": the number written before the question is its id
            written, rest = split_written_number(text)
            if written is not None and any(c.isdigit() for c in written):
                qid, text = written, rest
        return _Found(
            self.name,
            text,
            qid,
            section,
            _cell_name(*key),
            answer,
            notes,
            key[0],
        )

    def _target(
        self, role: TargetRole, row: int, column: int | None, question: CellKey
    ) -> Target | None:
        if column is None:
            return None
        cell = self.top_left(row, column)
        if cell == question or (cell[1] < column and cell[1] <= question[1]):
            return None  # the place is merged into the question itself
        name = _cell_name(*cell)
        if name in self.xml.formula_cells:
            self.warnings.append(f"{self.name}!{name} holds a formula; DDQ leaves it alone")
            return None
        current = _text(self.values.get(cell))
        if is_placeholder(current):
            current = ""  # "Please select", "[Enter comments]": the place is still empty
        header = " ".join(_clean(self.values.get((row, column))) for row in self.header_rows)
        limits = [n for n in (self.limits.at(*cell), stated_limit(header)) if n]
        allowed = self.dropdowns.at(*cell) or ()
        return Target(
            role,
            f"{self.name}!{name}",
            allowed,
            current if current.strip() else None,
            min(limits) if limits else None,
            value_kind(allowed),
        )

    def _choice_target(self, row: int, choices: tuple[tuple[int, str], ...], question: CellKey
                       ) -> Target | None:
        """One answer place over the row's choice cells ("Sheet!C5:E5"); its allowed values
        are the choices' headers, and the marked one is what the file holds already."""
        cells = [(row, column) for column, _ in choices]
        if any(self.top_left(*cell) != cell for cell in cells):
            self.warnings.append(f"{self.name}: row {row}'s choice cells are merged; DDQ leaves "
                                 "them alone")
            return None
        if question[1] in {column for column, _ in choices}:
            return None
        names = [_cell_name(*cell) for cell in cells]
        if any(name in self.xml.formula_cells for name in names):
            self.warnings.append(f"{self.name}!{names[0]}:{names[-1]} holds a formula; DDQ "
                                 "leaves it alone")
            return None
        marked = [label for (column, label) in choices
                  if is_marked(_clean(self.value(row, column)))]
        return Target(TargetRole.ANSWER, f"{self.name}!{names[0]}:{names[-1]}",
                      tuple(label for _, label in choices), marked[0] if marked else None,
                      kind=TargetKind.CHOICE_CELLS)

    def _layout(self, columns: _Columns, found: list[_Found]) -> dict[str, Any]:
        def letter(column: int | None) -> str | None:
            return get_column_letter(column) if column else None

        answers = [f.answer for f in found if f.answer is not None and not columns.choices]
        lists = Counter(a.allowed for a in answers if a.allowed)
        currents = [a.current.strip().casefold() for a in answers if a.current]
        yes_no = (
            not lists
            and not columns.answer_from_notes
            and bool(currents)
            and all(c in YES_NO_ANSWERS for c in currents)
        )
        return {
            "header_row": columns.header_row,
            "question": letter(columns.question),
            "id": letter(columns.id),
            "answer": letter(columns.answer),
            "notes": letter(columns.notes),
            "section": letter(columns.section),
            "answer_is_free_text_column": columns.answer_from_notes,
            "choices": {letter(c): label for c, label in columns.choices} or None,
            "questions": len(found),
            "dropdown": list(lists.most_common(1)[0][0]) if lists else None,
            "yes_no_column": yes_no,
        }


class _Headings:
    """The path of section headings above the current row.

    Numbered headings ("2.1 Passwords") nest by their numbering. Otherwise headings that look
    alike are one level, and a new look right after a heading is one level deeper.
    """

    def __init__(self) -> None:
        self._stack: list[tuple[str, str | None]] = []
        self._levels: dict[tuple[object, ...], int] = {}
        self._after_heading = False

    def add(self, text: str, numbered: int | None, style: tuple[object, ...],
            qid: str | None = None) -> None:
        """``qid``: the id that numbers the section ("1.2"), when it has one."""
        level = numbered or self._levels.get(style)
        if level is None:
            level = len(self._stack) + 1 if self._after_heading else max(len(self._stack), 1)
            self._levels[style] = level
        self._stack = [*self._stack[: level - 1], (text, qid)]
        self._after_heading = True

    def question_seen(self) -> None:
        self._after_heading = False

    def path(self, qid: str = "") -> tuple[str, ...]:
        """The headings above a question; a numbered section whose number does not contain
        the question's id ("1.2" above question "2") has ended, with those below it."""
        path: list[str] = []
        for text, number in self._stack:
            if number is not None and qid and not numbered_inside(number, qid):
                break
            path.append(text)
        return tuple(path)
