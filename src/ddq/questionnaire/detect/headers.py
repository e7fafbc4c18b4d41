"""The header vocabulary: what one header names, the same for every file kind.

:func:`header_role` says what a header cell names (the question, id, section, answer, notes,
owner or review-by column, or one of the choices, "Yes | No | N/A"), and
:func:`match_header` how (a whole header or one part of a compound one, or only a telling
word; whether the column takes Yes/No). Workbooks read their header cells with it, CSV files
and Word tables their header row through :func:`classify_headers`, and answer libraries
(:mod:`ddq.ingest.library_loaders`) theirs, so that one header is read one way whichever
file it comes in. Options name columns by header or 1-based number (:func:`find_column`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from ddq.forms import ExtractOptions
from ddq.questionnaire.detect.choices import choice_columns, is_hedged, verdict_of
from ddq.questionnaire.detect.questions import looks_like_question


class HeaderRole(StrEnum):
    """The part a column plays, as its header names it."""

    ID = "id"
    QUESTION = "question"
    SECTION = "section"
    ANSWER = "answer"
    NOTES = "notes"
    OWNER = "owner"
    REVIEW_BY = "review_by"
    #: A header that is one of the choices ("Yes", "N/A"): a column to mark with an X when
    #: its neighbours are the other choices (:func:`~.choices.choice_columns` decides).
    CHOICE = "choice"


#: The roles a questionnaire reader places questions and answers by.
READER_ROLES = frozenset({HeaderRole.ID, HeaderRole.QUESTION, HeaderRole.SECTION,
                          HeaderRole.ANSWER, HeaderRole.NOTES})

_ID = re.compile(
    r"(?:(?:question|ques|control|item|requirement|req|q|row|line|serial)\s*)?"
    r"(?:id|ref\.?|reference|#|no\.?|nr\.?|number|num|s/n)(?:\s*(?:#|no\.?|number|id))?"
    r"|item(?:\s*(?:#|no\.?|id))?|s\.?\s*no\.?|sl\.?\s*no\.?"
)
_QUESTION = re.compile(
    r"(?:(?:control|security|assessment|vendor|audit|due diligence|ddq)\s+)?"
    r"(?:questions?|question text|question description|requirements?|requirement text"
    r"|quer(?:y|ies)|items|prompt|request|controls?"
    r"|control (?:question|description|text|statement))"
)
#: Question headers that name the question less surely than "Question" does: a "Control"
#: column may hold the control's name beside the question, so a "Question" column wins.
_LOOSE_QUESTION = re.compile(r"(?:security\s+)?(?:controls?|request|items)")
_SECTION = re.compile(
    r"(?:(?:control|question|security|ccm)\s+)?"
    r"(?:domain|section|category|area|topic|family|group|sub-?domain|sub-?category|chapter"
    r"|heading|theme)(?:\s+(?:name|title))?"
)
#: The answer words that say a verdict rather than hold the answer's text.
_VERDICT = (r"compliant\??|compliance|compliance status|status|yes/no(?:/n/?a)?"
            r"|y/n(?:/n/?a)?|yes/no/partial|implemented\??|in place\??|selection")
_ANSWER = re.compile(
    r"(?:(?:vendor|supplier|provider|service provider|bidder|your|company|respondent|manager"
    r"|our|firm|approved|standard)(?:'s)?\s+)?"
    r"(?:responses?|answers?|reply|answer text|response text|" + _VERDICT + r")"
)
_VERDICT_ANSWER = re.compile(r"(?:[\w' ]+\s+)?(?:" + _VERDICT + r")")
#: An answer column that takes Yes/No/N/A, as its header says (brackets included).
_YES_NO = re.compile(
    r"yes/no(?:/n/?a)?|y/n(?:/n/?a)?|compliant\??|compliance|compliant \(y(?:es)?/n(?:o)?\)"
    r"|in place\??|implemented\??|(?:answer|response) ?\(y(?:es)?/n(?:o)?(?:/n/?a)?\)"
)
_NOTES = re.compile(
    r"(?:(?:vendor|supplier|additional|supporting|response|further|other|csp|provider|your"
    r"|respondent)\s+)?"
    r"(?:comments?|notes?|details?|explanations?|additional information|additional info"
    r"|additional details|additional comments"
    r"|implementation (?:description|details|statement|notes)"
    r"|information|evidence|justification|remarks?|supporting|supporting evidence"
    r"|supporting information|supporting details|supporting documentation|documentation"
    r"|clarification|rationale|commentary|elaboration)"
)
_OWNER = re.compile(r"(?:answer |content )?owner|reviewer")
#: The date after which an answer must be reviewed again before it is reused.
_REVIEW_BY = re.compile(
    r"review ?by|next review(?: date)?|review due(?: date)?|re-?review by|valid until"
    r"|expires?(?: on)?"
)
_NOTES_WORDS = re.compile(
    r"\b(?:comments?|notes?|details?|explanation|evidence|justification|remarks?|supporting"
    r"|additional information|clarification|rationale)\b"
)
_ANSWER_WORDS = re.compile(r"\b(?:responses?|answers?)\b")
_NOT_ANSWER_WORDS = re.compile(r"\b(?:date|owner)\b")  # "Response due date", "Answer owner"
_ROLE_PATTERNS = (
    (HeaderRole.ID, _ID),
    (HeaderRole.SECTION, _SECTION),
    (HeaderRole.ANSWER, _ANSWER),
    (HeaderRole.QUESTION, _QUESTION),
    (HeaderRole.NOTES, _NOTES),
    (HeaderRole.OWNER, _OWNER),
    (HeaderRole.REVIEW_BY, _REVIEW_BY),
)
_PART_SEPARATOR = re.compile(r"\s*(?:/|&|\||,|\band\b|\bor\b)\s*")
_TRAILING_NOTE = re.compile(r"\s*\([^)]*\)\s*$")  # "Answer (Optional/Recommended)"
_MAX_HEADER = 60  # longer is a title or an instruction, not a column's name


@dataclass(frozen=True, slots=True)
class HeaderMatch:
    """What a header names, and how it says so."""

    role: HeaderRole
    #: Only a telling word says so ("CSP CAIQ Answer"), not the whole header or a part of it,
    #: or a word that says so less surely ("Control"): another column's header comes first.
    weak: bool = False
    #: The column takes Yes/No/N/A ("Yes / No", "Response (Yes/No/N/A)", "Compliant").
    yes_no: bool = False
    #: An answer column whose header names a verdict ("Status", "Compliance"), not a text.
    verdict: bool = False


def normalise_header(value: str) -> str:
    """A header as options and writers compare it: spaces collapsed, lower case."""
    return re.sub(r"\s+", " ", value).strip().strip(":*").strip().lower()


def _folded(text: str) -> str:
    """A header as the vocabulary reads it: "Yes / No:" → "yes/no"."""
    lowered = " ".join(text.split()).casefold().rstrip(":*. ").strip()
    return re.sub(r"\s*/\s*", "/", lowered)


def _exact_role(text: str) -> HeaderRole | None:
    for role, pattern in _ROLE_PATTERNS:
        if pattern.fullmatch(text):
            return role
    return None


def _role_of(bare: str) -> tuple[HeaderRole, bool] | None:
    """The role of a header without its trailing note, and whether only a word says so."""
    role = _exact_role(bare)
    if role is not None:
        return role, False
    if len(bare.split()) <= 4 and (verdict_of(bare) or is_hedged(bare)):
        return HeaderRole.CHOICE, False
    for part in _PART_SEPARATOR.split(bare):
        role = _exact_role(part) if part else None
        if role is not None:
            return role, False
    if _NOTES_WORDS.search(bare):
        return HeaderRole.NOTES, True
    if _ANSWER_WORDS.search(bare) and not _NOT_ANSWER_WORDS.search(bare):
        return HeaderRole.ANSWER, True
    return None


def match_header(text: str) -> HeaderMatch | None:
    """What a header names, or None: the whole header first (without a trailing note in
    brackets), then a choice ("Yes"), then each part of a compound header ("Question/Request",
    "Comments / Evidence"), then a telling word, so that a title above the header matches
    nothing."""
    full = _folded(text)
    bare = _folded(_TRAILING_NOTE.sub("", full))
    if not bare or len(bare) > _MAX_HEADER:
        return None
    found = _role_of(bare)
    if found is None:
        return None
    role, weak = found
    if role is HeaderRole.QUESTION:
        return HeaderMatch(role, weak or bool(_LOOSE_QUESTION.fullmatch(bare)))
    if role is not HeaderRole.ANSWER:
        return HeaderMatch(role, weak)
    yes_no = bool(_YES_NO.fullmatch(full) or _YES_NO.fullmatch(bare))
    return HeaderMatch(role, weak, yes_no, yes_no or bool(_VERDICT_ANSWER.fullmatch(bare)))


def header_role(text: str) -> HeaderRole | None:
    """What a header cell names ("Question ID" → id, "CSP CAIQ Answer" → answer, "Additional
    Information" → notes, "Review by" → review_by, "N/A" → choice), or None."""
    found = match_header(text)
    return found.role if found else None


def find_column(headers: Sequence[str], wanted: str) -> int | None:
    """The column ``wanted`` names: a header (case-insensitive) or a 1-based number."""
    wanted = wanted.strip()
    lowered = [normalise_header(h) for h in headers]
    if normalise_header(wanted) in lowered:
        return lowered.index(normalise_header(wanted))
    if wanted.isdigit() and 1 <= int(wanted) <= len(headers):
        return int(wanted) - 1
    return None


def answer_rank(found: HeaderMatch) -> int:
    """Which of several answer columns holds the answer's text: a whole "Response" header
    first, then a verdict ("Status"), then a header with the word in it ("CSP CAIQ Answer")."""
    return 2 if found.weak else (1 if found.verdict else 0)


def first_column(matches: Sequence[HeaderMatch | None], role: HeaderRole, taken: set[int],
                 *, yes_no: bool | None = None) -> int | None:
    """The first free column with ``role`` (for answers, the best ranked; with ``yes_no``,
    only those that do or do not take Yes/No)."""
    best: tuple[int, int] | None = None
    for index, found in enumerate(matches):
        if index in taken or found is None or found.role is not role:
            continue
        if yes_no is not None and found.yes_no is not yes_no:
            continue
        rank = answer_rank(found) if role is HeaderRole.ANSWER else int(found.weak)
        if best is None or rank < best[0]:
            best = (rank, index)
    return best[1] if best else None


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


def classify_headers(headers: Sequence[str], options: ExtractOptions = ExtractOptions()
                     ) -> HeaderColumns:
    """Read a header row. With a Yes/No column, it is the answer and the response or comments
    column takes the notes; without one, the response column is the answer (or, failing
    that, the comments column). Options name columns by header or 1-based number."""
    # "No" beside "Yes" is a choice to mark, not the number column.
    choices = () if options.answer_column else choice_columns(dict(enumerate(headers)))
    taken: set[int] = {column for column, _ in choices}
    matches = [match_header(h) for h in headers]

    def pick(option: str | None, role: HeaderRole, yes_no: bool | None = None) -> int | None:
        index = (find_column(headers, option) if option
                 else first_column(matches, role, taken, yes_no=yes_no))
        if index is not None:
            taken.add(index)
        return index

    id_col = pick(options.id_column, HeaderRole.ID)
    question = pick(options.question_column, HeaderRole.QUESTION)
    section = pick(None, HeaderRole.SECTION)
    if options.answer_column:
        answer = pick(options.answer_column, HeaderRole.ANSWER)
        found = matches[answer] if answer is not None else None
        notes = pick(options.notes_column, HeaderRole.NOTES)
        return HeaderColumns(question, id_col, section, answer, notes,
                             found is not None and found.yes_no)
    yes_no_col = pick(None, HeaderRole.ANSWER, yes_no=True)
    response = pick(None, HeaderRole.ANSWER)
    comments = pick(options.notes_column, HeaderRole.NOTES)
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


#: A short code that numbers a question ("DOCU-01", "A.1", "3.2.1").
_ID_LIKE = re.compile(r"[A-Za-z]{0,8}[-_. ]?\d+(?:[.\-]\d+)*[a-z]?\.?|\d+(?:\.\d+)*\.?")


def id_column_by_content(candidates: Iterable[int], cells: Callable[[int], Sequence[str]]
                         ) -> int | None:
    """The first of ``candidates`` (columns left of the questions, under a blank header, as
    HECVAT's id column is) whose ``cells`` in the question rows are short codes in at least
    half of them."""
    for column in candidates:
        values = cells(column)
        if values and 2 * sum(1 for v in values if _ID_LIKE.fullmatch(v)) >= len(values):
            return column
    return None


def with_blank_header_id(columns: HeaderColumns, headers: Sequence[str],
                         rows: Sequence[Sequence[str]], options: ExtractOptions
                         ) -> HeaderColumns:
    """``columns`` with the id column found by content when no header names one (a blank
    header over "A.1", "A.2" left of the questions); ``rows`` are the rows under the header,
    as texts."""
    question = columns.question
    if columns.id is not None or options.id_column or question is None:
        return columns
    asked = [row for row in rows if question < len(row) and looks_like_question(row[question])]
    taken = {columns.answer, columns.notes, columns.section} | {c for c, _ in columns.choices}
    blank = [c for c in range(question)
             if c not in taken and not (c < len(headers) and headers[c].strip())]
    found = id_column_by_content(
        blank, lambda c: [row[c].strip() if c < len(row) else "" for row in asked])
    return replace(columns, id=found) if found is not None else columns
