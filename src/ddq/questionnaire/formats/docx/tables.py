"""Questions from one body table: a layout its header names (the shared header vocabulary),
two columns of questions and answers, or question rows each above a full-width answer row."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ddq.forms import YES_NO_VALUES, Target, TargetKind, TargetRole, value_kind
from ddq.questionnaire.detect.headers import HeaderColumns, classify_headers, with_blank_header_id
from ddq.questionnaire.detect.keys import Found
from ddq.questionnaire.detect.questions import paragraph_asks, split_written_number, stated_limit
from ddq.questionnaire.formats.docx.body_xml import (
    W_TC,
    W_TR,
    Element,
    cell_paragraphs,
    cell_text,
    paragraph_text,
)
from ddq.questionnaire.formats.docx.boxes import Choice, choice_in
from ddq.questionnaire.formats.docx.grid import (
    _continues_merge,
    _grid,
    _header_texts,
    _merge_origin,
    _merged_across,
)
from ddq.questionnaire.formats.docx.places import (
    _PROMPT,
    _below,
    _current,
    _current_after_label,
    _dropdown_values,
    _marked,
)

if TYPE_CHECKING:

    from ddq.questionnaire.formats.docx.walk import _Walker
class _TableReader:
    """Questions from one body table: a header-named layout, or two columns of Q and A."""

    def __init__(self, walker: _Walker, tbl: Element, index: int) -> None:
        self.walker = walker
        self.index = index
        self.rows = list(tbl.iterchildren(W_TR))
        self.grids = [_grid(tr) for tr in self.rows]
        self.header: list[str] = []  # the header row's texts, once read

    def read(self) -> None:
        found = self._header_layout()
        if found is not None:
            header_row, columns = found
            kind = "header"
        elif self._two_columns():
            header_row, columns, kind = None, HeaderColumns(question=0, answer=1), "two_column"
        elif (pairs := self._stacked()) is not None:
            self.walker.scan.tables.append({
                "table": self.index, "kind": "stacked", "header_row": None,
                "columns": None, "yes_no": False, "questions": self._read_stacked(pairs)})
            return
        else:
            return
        count = self._read_rows(header_row, columns, kind == "two_column")
        self.walker.scan.tables.append({
            "table": self.index, "kind": kind, "header_row": header_row,
            "columns": {"id": columns.id, "question": columns.question,
                        "section": columns.section, "answer": columns.answer,
                        "notes": columns.notes,
                        "choices": {c: label for c, label in columns.choices} or None},
            "yes_no": columns.yes_no, "questions": count,
        })

    def _header_layout(self) -> tuple[int, HeaderColumns] | None:
        options = self.walker.options
        if options.header_row is not None:
            candidates = [options.header_row - 1]
        else:
            candidates = list(range(min(3, len(self.rows))))
        for row in candidates:
            if not 0 <= row < len(self.rows) or _merged_across(self.grids[row]):
                continue
            headers = _header_texts(self.grids[row])
            columns = classify_headers(headers, options)
            if columns.question is None:
                continue
            if columns.answer is None and len(headers) == 2 and not headers[1 - columns.question]:
                # "Question | (blank)": the unnamed column is where the answers go.
                columns = HeaderColumns(columns.question, answer=1 - columns.question)
            if columns.answer is not None or columns.choices:
                below = [_header_texts(grid) for grid in self.grids[row + 1:]]
                return row, with_blank_header_id(columns, headers, below, options)
        return None

    def _two_columns(self) -> bool:
        """Two columns, and at least half the rows with a left cell ask a question."""
        lefts = [cell_text(g[0]) for g in self.grids
                 if len(g) == 2 and g[0] is not None and not _merged_across(g)]
        lefts = [t for t in lefts if t]
        questions = [t for t in lefts if paragraph_asks(split_written_number(t)[1])]
        return bool(questions) and 2 * len(questions) >= len(lefts) and all(
            len(g) == 2 for g in self.grids if not _merged_across(g))

    def _asks(self, row: int) -> tuple[str | None, str] | None:
        """(id, question) when the row asks something: one question cell, maybe after a
        short id cell ("1.1 | Describe ..."); None otherwise."""
        cells: list[Element] = []
        for tc in self.grids[row]:
            if tc is not None and not any(tc is c for c in cells):
                cells.append(tc)
        texts = [" ".join(cell_text(tc).split()) for tc in cells]
        texts = [t for t in texts if t]
        qid: str | None
        if len(texts) == 2 and len(texts[0]) <= 12 and len(texts[0].split()) == 1:
            qid, text = texts[0].rstrip("."), texts[1]
        elif len(texts) == 1:
            qid, text = split_written_number(texts[0])
        else:
            return None
        return (qid, text) if paragraph_asks(text) else None

    def _stacked(self) -> list[tuple[int, int]] | None:
        """Each question row followed by a full-width row for its answer ("Response:",
        empty, or a placeholder): the (question row, answer row) pairs, when at least two
        rows pair so and no asking row goes without an answer row."""
        pairs: list[tuple[int, int]] = []
        asking = 0
        for row in range(len(self.rows)):
            if self._asks(row) is None:
                continue
            asking += 1
            below = row + 1
            if (below < len(self.rows) and _merged_across(self.grids[below])
                    and self._asks(below) is None):
                pairs.append((row, below))
        return pairs if len(pairs) >= 2 and len(pairs) == asking else None

    def _read_stacked(self, pairs: list[tuple[int, int]]) -> int:
        answers = dict(pairs)
        taken = set(answers.values())
        sub_section: str | None = None
        for row in range(len(self.rows)):
            if row in taken:
                continue
            if row not in answers:
                grid = self.grids[row]
                spanning = grid[0] if grid else None
                if _merged_across(grid) and spanning is not None:  # a section row
                    sub_section = " ".join(cell_text(spanning).split()) or sub_section
                continue
            asked = self._asks(row)
            if asked is None:
                continue
            qid, text = asked
            cell = self.grids[answers[row]][0]
            if cell is None:
                continue
            allowed = _dropdown_values(cell)
            answer = Target(TargetRole.ANSWER, f"table:{self.index}:{answers[row]}:0",
                            allowed, _current_after_label(cell), kind=value_kind(allowed))
            first = self.grids[row][0]
            if qid is None and first is not None:
                qid = self._shown_number(first)  # a Word list number, not typed text
            section = self.walker.section + ((sub_section,) if sub_section else ())
            self.walker.scan.found.append(Found(
                text, qid, section, f"table {self.index + 1}, row {row + 1}", answer))
        return len(pairs)

    def _cell(self, row: int, col: int | None) -> Element | None:
        if col is None or col >= len(self.grids[row]):
            return None
        return self.grids[row][col]

    def _read_rows(self, header_row: int | None, columns: HeaderColumns,
                   require_question: bool) -> int:
        count = 0
        sub_section: str | None = None
        header = _header_texts(self.grids[header_row]) if header_row is not None else None
        self.header = header or []
        first = 0 if header_row is None else header_row + 1
        for row in range(first, len(self.rows)):
            grid = self.grids[row]
            if _merged_across(grid):
                sub_section = " ".join(cell_text(grid[0]).split()) or sub_section
                continue
            q_cell = self._cell(row, columns.question)
            if q_cell is None or _continues_merge(q_cell):
                continue
            text = cell_text(q_cell)
            if not text or (header is not None and _header_texts(grid) == header):
                continue
            found = self._row_question(row, text, q_cell, columns, sub_section,
                                       require_question)
            if found is not None:
                self.walker.scan.found.append(found)
                count += 1
        return count

    def _row_question(self, row: int, text: str, q_cell: Element, columns: HeaderColumns,
                      sub_section: str | None, require_question: bool) -> Found | None:
        written, rest = split_written_number(text)
        if require_question and not paragraph_asks(rest):
            return None
        qid = self._id(row, columns.id) or written or self._shown_number(q_cell)
        if columns.id is None and written is None:
            rest = text
        section = self.walker.section
        section_cell = self._cell(row, columns.section)
        if section_cell is not None and cell_text(section_cell):
            section += (" ".join(cell_text(section_cell).split()),)
        if sub_section:
            section += (sub_section,)
        if columns.choices:
            answer, boxes = self._choice_target(row, columns.choices), None
        else:
            answer, boxes = self._target(row, columns.answer, TargetRole.ANSWER,
                                         columns.yes_no)
        notes, _ = self._target(row, columns.notes, TargetRole.NOTES, False)
        if notes is None and answer is not None and boxes is not None:
            notes = self._below_boxes(answer, boxes)
        return Found(" ".join(rest.split()), qid, section,
                      f"table {self.index + 1}, row {row + 1}", answer, notes)

    def _id(self, row: int, col: int | None) -> str | None:
        cell = self._cell(row, col)
        if cell is None:
            return None
        return cell_text(cell).rstrip(".") or self._shown_number(cell)

    def _shown_number(self, cell: Element) -> str | None:
        paragraphs = cell_paragraphs(cell)
        return self.walker.numbers.get(paragraphs[0], (False, None))[1] if paragraphs else None

    def _target(self, row: int, col: int | None, role: TargetRole,
                yes_no: bool) -> tuple[Target | None, Choice | None]:
        """The answer place in this row's column ``col``, and its check boxes if it has any."""
        if col is None or self._cell(row, col) is None:
            return None, None
        cell = _merge_origin(self.rows, row, col)
        if cell is None:
            return None, None
        ref = f"table:{self.index}:{row}:{col}"
        boxes = choice_in(cell_paragraphs(cell))
        if boxes is not None:
            # Check boxes are a verdict to tick, never a place for notes.
            target = (Target(role, ref, boxes.labels, boxes.current,
                             kind=TargetKind.CHECK_BOXES)
                      if role is TargetRole.ANSWER else None)
            return target, boxes
        allowed = _dropdown_values(cell) or (YES_NO_VALUES if yes_no else ())
        limit = stated_limit(self.header[col]) if col < len(self.header) else None
        return Target(role, ref, allowed, _current(cell_text(cell), cell), limit,
                      value_kind(allowed)), None

    def _choice_target(self, row: int, choices: tuple[tuple[int, str], ...]) -> Target | None:
        """One answer place over the row's choice cells ("table:<t>:<row>:<first>-<last>"),
        whose allowed values are the choices' headers; the marked one is the current value."""
        cells = [_merge_origin(self.rows, row, column) for column, _ in choices]
        if any(cell is None for cell in cells) or len(set(map(id, cells))) < len(cells):
            return None  # merged across the choices: not a place to mark
        marked = [label for (_, label), cell in zip(choices, cells, strict=True)
                  if cell is not None and _marked(cell)]
        return Target(TargetRole.ANSWER,
                      f"table:{self.index}:{row}:{choices[0][0]}-{choices[-1][0]}",
                      tuple(label for _, label in choices), marked[0] if marked else None,
                      kind=TargetKind.CHOICE_CELLS)

    @staticmethod
    def _below_boxes(answer: Target, boxes: Choice) -> Target:
        """Without a notes column, a check-box cell takes its supporting text below the
        boxes, in the same cell; what is there already is the current note."""
        cell = next(boxes.paragraphs[-1].iterancestors(W_TC))
        text = "\n".join(paragraph_text(p) for p in _below(cell, boxes)).strip()
        if _PROMPT.match(text):
            text = ""  # "If yes, describe: ____" is where the note goes, not a note
        return Target(TargetRole.NOTES, f"{answer.ref}:below", (), text or None)
