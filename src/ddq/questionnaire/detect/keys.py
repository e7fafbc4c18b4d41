"""Keys for extracted questions: unique within the file and stable across runs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Placed:
    """What a key is made from: the question's id, where it is, and its sheet (if any)."""

    qid: str | None
    location: str
    sheet: str | None = None


def assign_keys(found: Sequence[Placed], *, id_name: str = "question id",
                keyed_by: str = "location") -> tuple[list[str], list[str]]:
    """One key per question, in order, and a warning per id that repeats in the file.

    The id when it is unique in the file, "<sheet>!<id>" when unique in its sheet, else the
    question's location (made unique if two questions share it). ``id_name`` and
    ``keyed_by`` word the warnings: "question id 'A1' appears 2 times; those questions are
    keyed by row"."""
    in_file = Counter(f.qid for f in found if f.qid)
    in_sheet: Counter[tuple[str | None, str]] = Counter(
        (f.sheet, f.qid) for f in found if f.qid and f.sheet is not None)
    used: set[str] = set()
    keys: list[str] = []
    for item in found:
        key = item.location
        if item.qid and in_file[item.qid] == 1:
            key = item.qid
        elif item.qid and in_sheet[(item.sheet, item.qid)] == 1:
            key = f"{item.sheet}!{item.qid}"
        if key in used:
            key = item.location if item.location not in used else f"{item.location}#{len(used)}"
        used.add(key)
        keys.append(key)
    warnings = [f"{id_name} {qid!r} appears {n} times; those questions are keyed by {keyed_by}"
                for qid, n in in_file.items() if n > 1]
    return keys, warnings
