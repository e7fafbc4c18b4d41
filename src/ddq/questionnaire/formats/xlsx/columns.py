"""Column detection: the header row (or two), which column is the question, id, section,
answer, notes or a choice, from the header vocabulary, the options, or the content."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from openpyxl.utils.cell import column_index_from_string

from ddq.errors import ErrorCode
from ddq.questionnaire.detect.choices import (
    choice_columns,
)
from ddq.questionnaire.detect.headers import (
    READER_ROLES,
    HeaderMatch,
    answer_rank,
    id_column_by_content,
    match_header,
)
from ddq.questionnaire.detect.questions import (
    looks_like_question,
)
from ddq.questionnaire.formats.xlsx.cells import _SheetCells
from ddq.questionnaire.formats.xlsx.values import _MAX_COLUMN, _clean

_HEADER_SCAN_ROWS = 30







class _SkipSheet(Exception):
    """A sheet that yields no questions, with the reason for the warnings."""

    def __init__(self, detail: str, code: ErrorCode = ErrorCode.NO_QUESTIONS) -> None:
        super().__init__(detail)
        self.code = code


@dataclass(slots=True)
class _Columns:
    header_row: int | None
    question: int
    id: int | None = None
    answer: int | None = None
    notes: int | None = None
    section: int | None = None
    answer_from_notes: bool = False  # a notes-like column used as the free-text answer
    #: Columns headed by the choices themselves ("Yes | No | N/A"), marked with an X: the
    #: answer place when the form has no answer column. (column, header label), in order.
    choices: tuple[tuple[int, str], ...] = ()
    #: A second header row under the first ("Vendor Response" over "Yes/No | Comments").
    sub_header_row: int | None = None

    @property
    def last_header_row(self) -> int:
        return self.sub_header_row or self.header_row or 0

    def roles(self) -> dict[str, int | None]:
        first = self.choices[0][0] if self.choices else None
        last = self.choices[-1][0] if self.choices else None
        return {"id": self.id, "answer": self.answer, "notes": self.notes, "section": self.section,
                "choices": first, "last choice": last}


_SPEC_LETTERS = re.compile(r"\$?([A-Za-z]{1,3})")


def _reader_match(text: str) -> HeaderMatch | None:
    """What a header cell names among the parts a reader places (owner and review-by
    columns are the library's, a lone choice is the choice run's)."""
    found = match_header(text)
    return found if found is not None and found.role in READER_ROLES else None


def _reader_role(text: str) -> str | None:
    found = _reader_match(text)
    return found.role if found else None



def _verdict_beside_text(roles: dict[str, int], answers: dict[int, HeaderMatch]) -> None:
    """A Yes/No column beside a response column ("Yes/No | Response"): the Yes/No column is
    the answer and the response its notes, as in a CSV file or a Word table."""
    free = {c: m for c, m in answers.items()
            if roles.get("answer") == c or c not in roles.values()}
    verdicts = sorted((answer_rank(m), c) for c, m in free.items() if m.yes_no)
    if not verdicts:
        return
    verdict = verdicts[0][1]
    texts = sorted((answer_rank(m), c) for c, m in free.items() if c != verdict)
    roles["answer"] = verdict
    if texts:
        roles["notes"] = texts[0][1]


class _ColumnFinder(_SheetCells):
    """Finds which column of a sheet plays which part: from its header row(s), the options,
    or the content when it has no header."""


    def header_cells(self, row: int) -> dict[int, str]:
        return {c: _clean(v) for c, v in self.by_row.get(row, {}).items()}

    def find_columns(self) -> _Columns:
        header_row = self._find_header_row()
        header = self.header_cells(header_row) if header_row else {}
        sub_row, sub = self._sub_header(header_row)
        self.header_rows = tuple(r for r in (header_row, sub_row) if r)
        choices = choice_columns(header) or choice_columns(sub)
        roles: dict[str, int] = {}
        answers: dict[int, HeaderMatch] = {}  # every column a header names as an answer
        # The second header row names what the first leaves general ("Vendor Response" over
        # "Yes/No/N/A | Comments"), so its roles come first; a header that says its role
        # only by a word ("CSP CAIQ Answer", "Control") comes after those that name it.
        for weak in (False, True):
            for cells in (sub, header):
                for column in sorted(cells):
                    if any(column == c for c, _ in choices):
                        continue  # "No" beside "Yes" is a choice, not the number column
                    found = _reader_match(cells[column])
                    if found is None or found.weak is not weak:
                        continue
                    if found.role == "answer":
                        answers.setdefault(column, found)
                    if found.role not in roles and column not in roles.values():
                        roles[found.role] = column
        if not choices and not self.options.answer_column:
            _verdict_beside_text(roles, answers)
        columns = _Columns(
            header_row,
            roles.get("question", 0),
            roles.get("id"),
            roles.get("answer"),
            roles.get("notes"),
            roles.get("section"),
            sub_header_row=sub_row,
        )
        if choices and not self.options.answer_column:
            # "Yes | No | N/A | Response": the marks are the verdict, the response its text.
            if columns.answer is not None:
                columns.answer, columns.notes = None, columns.answer
            if columns.answer is None:
                columns.choices = choices
        self._apply_overrides(columns, header)
        if not columns.question:
            columns.question = self._question_column_by_content(columns) or 0
        if not columns.question and header_row is None:
            raise _SkipSheet(
                f"sheet {self.name!r}: no header row naming a question column "
                "and no column that reads like questions; skipped"
            )
        if not columns.question:
            seen = ", ".join(repr(h) for h in header.values())
            raise _SkipSheet(
                f"sheet {self.name!r}: no question column in header row "
                f"{header_row} (cells: {seen}); skipped"
            )
        if header_row is None:
            self._detect_without_header(columns)
        elif columns.id is None and not self.options.id_column:
            # A blank header over short codes ("DOCU-01") left of the questions.
            columns.id = self._id_column_by_content(columns)
        if columns.answer is None and columns.notes is not None and not columns.choices:
            columns.answer, columns.notes, columns.answer_from_notes = columns.notes, None, True
        return columns

    def _sub_header(self, header_row: int | None) -> tuple[int | None, dict[int, str]]:
        """The row under the header when it is a second header row: every cell in it names
        a column or a choice, and none asks anything."""
        if header_row is None or self.options.header_row is not None:
            return None, {}
        below = header_row + 1
        cells = {c: t for c, t in self.header_cells(below).items() if t}
        named = [c for c, t in cells.items() if _reader_role(t) is not None]
        if not cells or any(looks_like_question(t) for t in cells.values()):
            return None, {}
        choices = {c for c, _ in choice_columns(cells)}
        if all(c in choices or c in named for c in cells):
            return below, cells
        return None, {}

    def _find_header_row(self) -> int | None:
        if self.options.header_row is not None:
            if self.options.header_row not in self.row_numbers:
                raise _SkipSheet(
                    f"sheet {self.name!r}: header row {self.options.header_row} is empty; skipped",
                    ErrorCode.INVALID_INPUT,
                )
            return self.options.header_row
        specs = [s for s in self._override_specs() if not _SPEC_LETTERS.fullmatch(s.strip())]
        best, best_score = None, 0
        for row in self.row_numbers[:_HEADER_SCAN_ROWS]:
            cells = self.header_cells(row)
            if specs:
                lowered = {_clean(t).casefold() for t in cells.values()}
                if all(_clean(s).casefold() in lowered for s in specs):
                    return row
                continue
            roles = {_reader_role(t) for t in cells.values()} - {None}
            score = len(roles) + (2 if "question" in roles else 0)
            if score > best_score and ("question" in roles or len(roles) >= 2):
                best, best_score = row, score
        return best

    def _override_specs(self) -> list[str]:
        o = self.options
        return [s for s in (o.question_column, o.id_column, o.answer_column, o.notes_column) if s]

    def _apply_overrides(self, columns: _Columns, header: dict[int, str]) -> None:
        o = self.options
        for role, spec in (
            ("question", o.question_column),
            ("id", o.id_column),
            ("answer", o.answer_column),
            ("notes", o.notes_column),
        ):
            if spec:
                column = self._column_of(spec, header)
                for other, at in columns.roles().items():  # one column, one role
                    if at == column and other != role:
                        setattr(columns, other, None)
                setattr(columns, role, column)

    def _column_of(self, spec: str, header: dict[int, str]) -> int:
        wanted = _clean(spec).casefold()
        for column, text in sorted(header.items()):
            if text.casefold() == wanted:
                return column
        letters = _SPEC_LETTERS.fullmatch(spec.strip())
        if letters:
            column = column_index_from_string(letters.group(1).upper())
            if column <= _MAX_COLUMN:
                return column
        seen = ", ".join(repr(h) for h in header.values()) or "none"
        raise _SkipSheet(
            f"sheet {self.name!r}: no column {spec!r} (give a column letter or a "
            f"header; header cells seen: {seen}); skipped",
            ErrorCode.INVALID_INPUT,
        )

    def _question_column_by_content(self, columns: _Columns) -> int | None:
        """The column whose cells most look like questions, for a sheet without a header."""
        start = columns.last_header_row + 1
        taken = {c for c in columns.roles().values() if c}
        asked: Counter[int] = Counter()
        filled: Counter[int] = Counter()
        for (row, column), value in self.values.items():
            if row < start or column in taken:
                continue
            filled[column] += 1
            if looks_like_question(_clean(value)):
                asked[column] += 1
        for column, count in asked.most_common():
            if count >= 3 and count * 2 >= filled[column]:
                return column
        return None

    def _id_column_by_content(self, columns: _Columns,
                              question_rows: list[int] | None = None) -> int | None:
        """The column left of the questions whose cells are short codes in at least half of
        the question rows, and whose header (if any) names nothing else."""
        if question_rows is None:
            question_rows = [r for (r, c), v in self.values.items()
                             if c == columns.question and r > columns.last_header_row
                             and looks_like_question(_clean(v))]
        taken = {c for c in columns.roles().values() if c}
        header = self.header_cells(columns.header_row) if columns.header_row else {}
        blank = [c for c in range(1, columns.question) if c not in taken and not header.get(c)]
        return id_column_by_content(
            blank, lambda c: [_clean(self.values.get((r, c))) for r in question_rows])

    def _detect_without_header(self, columns: _Columns) -> None:
        """No header: ids are short codes left of the questions; answers have a dropdown."""
        question_rows = [
            r
            for (r, c), v in self.values.items()
            if c == columns.question and looks_like_question(_clean(v))
        ]
        if columns.id is None:
            columns.id = self._id_column_by_content(columns, question_rows)
        if columns.answer is None and self.dropdowns:
            for column in range(columns.question + 1, self.ws.max_column + 1):
                if any(self.dropdowns.at(r, column) for r in question_rows):
                    columns.answer = column
                    break
