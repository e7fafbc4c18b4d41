"""What a reader found, and its key: unique within the file and stable across runs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ddq.forms import ExtractedQuestion, Target


@dataclass(frozen=True, slots=True)
class Found:
    """A question as a reader found it, before it has a key."""

    text: str
    qid: str | None
    section: tuple[str, ...]
    #: Where it is, for people ("row 5", "table 2, row 4"); the key when the id is not unique.
    location: str
    answer: Target | None
    notes: Target | None = None
    #: The sheet it is on, in a workbook: an id unique in its sheet is "<sheet>!<id>".
    sheet: str | None = None
    #: Its cell in the sheet ("B12") and its row or line (12), where the file has a grid.
    cell: str | None = None
    row: int | None = None


def assign_keys(found: Sequence[Found], *, id_name: str = "question id",
                keyed_by: str = "location") -> tuple[list[ExtractedQuestion], list[str]]:
    """The questions with their keys, in order, and a warning per id that repeats in the file.

    A key is the id when it is unique in the file, "<sheet>!<id>" when unique in its sheet,
    else the question's location (made unique if two questions share it). ``id_name`` and
    ``keyed_by`` word the warnings: "question id 'A1' appears 2 times; those questions are
    keyed by row"."""
    in_file = Counter(f.qid for f in found if f.qid)
    in_sheet: Counter[tuple[str | None, str]] = Counter(
        (f.sheet, f.qid) for f in found if f.qid and f.sheet is not None)
    used: set[str] = set()
    questions: list[ExtractedQuestion] = []
    for item in found:
        key = item.location
        if item.qid and in_file[item.qid] == 1:
            key = item.qid
        elif item.qid and in_sheet[(item.sheet, item.qid)] == 1:
            key = f"{item.sheet}!{item.qid}"
        if key in used:
            key = item.location if item.location not in used else f"{item.location}#{len(used)}"
        used.add(key)
        questions.append(ExtractedQuestion(key, item.text, item.qid, item.section,
                                           item.location, item.answer, item.notes,
                                           item.sheet, item.cell, item.row))
    warnings = [f"{id_name} {qid!r} appears {n} times; those questions are keyed by {keyed_by}"
                for qid, n in in_file.items() if n > 1]
    return questions, warnings
