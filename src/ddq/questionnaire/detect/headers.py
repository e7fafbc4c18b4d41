"""The header vocabulary: which column of a header row plays which part.

One set of names for every format that reads a header row (CSV files, Word tables): the
question, id, section, answer (or a Yes/No column) and notes columns, and choice columns
("Yes | No | N/A"). Options name columns by header or 1-based number.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ddq.forms import ExtractOptions
from ddq.questionnaire.detect.choices import choice_columns

_ID_HEADER = re.compile(
    r"^(?:#|id|no\.?|nr\.?|num(?:ber)?|ref\.?|reference|item(?:\s*(?:#|no\.?|id))?"
    r"|(?:question|ques|q|control|req(?:uirement)?|item)\s*(?:id|#|no\.?|num(?:ber)?|ref\.?)"
    r"|s\.?\s*no\.?|sl\.?\s*no\.?)$"
)
_QUESTION_HEADER = re.compile(
    r"^(?:(?:control|security|assessment|due\s+diligence|ddq)\s+)?"
    r"(?:questions?|question\s*text|query|queries|requirements?|request|prompt|controls?"
    r"|control\s*(?:question|description|text|statement))$"
)
_SECTION_HEADER = re.compile(
    r"^(?:domain|section|category|area|topic|group|heading|chapter|theme"
    r"|control\s*(?:domain|area|family|category))$"
)
_YES_NO_HEADER = re.compile(
    r"^(?:yes\s*/\s*no(?:\s*/\s*n/?a)?|y\s*/\s*n(?:\s*/\s*n/?a)?|compliant\??|compliance"
    r"|compliant\s*\(y(?:es)?\s*/\s*n(?:o)?\)|in\s+place\??|implemented\??"
    r"|(?:answer|response)\s*\(\s*y(?:es)?\s*/\s*n(?:o)?(?:\s*/\s*n/?a)?\s*\))$"
)
_ANSWER_HEADER = re.compile(
    r"^(?:(?:vendor|supplier|your|company|manager|provider|respondent|our|firm)(?:'s)?\s+)?"
    r"(?:answers?|responses?|reply|answer\s*text|response\s*text)(?:\s*\(.*\))?$"
)
_NOTES_HEADER = re.compile(
    r"^(?:(?:vendor|supplier|additional|your|respondent|csp|provider)\s+)?"
    r"(?:comments?|notes?|details?|explanation|remarks?|evidence|justification"
    r"|implementation\s+(?:description|details|statement|notes)"
    r"|additional\s+information|supporting\s+(?:information|details|evidence))$"
)
_ANSWER_WORD_HEADER = re.compile(r".*\b(?:answers?|responses?)\b(?!.*\b(?:date|owner)\b)")


def normalise_header(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip().strip(":*").strip().lower()


def find_column(headers: Sequence[str], wanted: str) -> int | None:
    """The column ``wanted`` names: a header (case-insensitive) or a 1-based number."""
    wanted = wanted.strip()
    lowered = [normalise_header(h) for h in headers]
    if normalise_header(wanted) in lowered:
        return lowered.index(normalise_header(wanted))
    if wanted.isdigit() and 1 <= int(wanted) <= len(headers):
        return int(wanted) - 1
    return None


@dataclass(frozen=True, slots=True)
class HeaderColumns:
    """Which column (0-based) plays which part; None when the header has none."""

    question: int | None
    id: int | None = None
    section: int | None = None
    answer: int | None = None
    notes: int | None = None
    #: The answer column takes Yes/No/N/A (its header says so).
    yes_no: bool = False
    #: Columns headed by the choices themselves ("Yes | No | N/A", mark one with an X): the
    #: answer place when the header has no answer column. (column, header), in order.
    choices: tuple[tuple[int, str], ...] = ()


_HEADER_PARTS = re.compile(r"\s*(?:/|&|\|)\s*")
_TRAILING_NOTE = re.compile(r"\s*\([^)]*\)$")  # "Answer (Optional/Recommended)"


def _first(headers: Sequence[str], pattern: re.Pattern[str], taken: set[int]) -> int | None:
    """The first free column whose header matches ``pattern``: the whole header, without a
    trailing note in brackets, or one part of a compound one ("Question/Request")."""
    for index, header in enumerate(headers):
        if index in taken:
            continue
        norm = normalise_header(header)
        bare = _TRAILING_NOTE.sub("", norm)
        if pattern.match(norm) or pattern.match(bare) or any(
                pattern.match(part) for part in _HEADER_PARTS.split(bare) if part):
            return index
    return None


def classify_headers(headers: Sequence[str], options: ExtractOptions = ExtractOptions()
                     ) -> HeaderColumns:
    """Read a header row. With a Yes/No column, it is the answer and the response or comments
    column takes the notes; without one, the response column is the answer (or, failing
    that, the comments column). Options name columns by header or 1-based number."""
    # "No" beside "Yes" is a choice to mark, not the number column.
    choices = () if options.answer_column else choice_columns(dict(enumerate(headers)))
    taken: set[int] = {column for column, _ in choices}

    def pick(option: str | None, pattern: re.Pattern[str]) -> int | None:
        index = find_column(headers, option) if option else _first(headers, pattern, taken)
        if index is not None:
            taken.add(index)
        return index

    id_col = pick(options.id_column, _ID_HEADER)
    question = pick(options.question_column, _QUESTION_HEADER)
    section = pick(None, _SECTION_HEADER)
    if options.answer_column:
        answer = pick(options.answer_column, _ANSWER_HEADER)
        yes_no = answer is not None and bool(_YES_NO_HEADER.match(normalise_header(
            headers[answer])))
        notes = pick(options.notes_column, _NOTES_HEADER)
        return HeaderColumns(question, id_col, section, answer, notes, yes_no)
    yes_no_col = pick(None, _YES_NO_HEADER)
    # "CSP CAIQ Answer": a header that says "answer" or "response" anywhere.
    response = pick(None, _ANSWER_HEADER)
    if response is None:
        response = pick(None, _ANSWER_WORD_HEADER)
    notes = pick(options.notes_column, _NOTES_HEADER) if options.notes_column else None
    comments = notes if options.notes_column else pick(None, _NOTES_HEADER)
    if yes_no_col is not None:
        return HeaderColumns(question, id_col, section, yes_no_col,
                             response if response is not None else comments, True)
    if choices:
        # "Yes | No | N/A | Response": the marks are the verdict, the response its text.
        notes_col = response if response is not None else comments
        return HeaderColumns(question, id_col, section, None, notes_col, False, choices)
    if response is None:
        return HeaderColumns(question, id_col, section, comments, None, False)
    return HeaderColumns(question, id_col, section, response, comments, False)
