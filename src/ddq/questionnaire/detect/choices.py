"""The yes/no vocabulary of forms, and choices as columns.

Which words of a choice or an allowed value say yes or no (:func:`verdict_of`), which header
cells are the choices themselves ("Yes | No | N/A"), and how a row of them is marked.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from ddq.errors import DDQError, ErrorCode

# The words of a choice or an allowed value that say yes or no; see verdict_of.
_YES = frozenset({
    "yes", "y", "true", "compliant", "fully compliant", "implemented", "in place", "supported",
    "agree", "comply", "complies", "fully comply", "fully complies"})
_NO = frozenset({
    "no", "n", "false", "non-compliant", "not compliant", "noncompliant", "not implemented",
    "not supported", "disagree", "do not comply", "does not comply", "not comply", "non-comply"})
_LEADING_SCORE = re.compile(r"^\(?\d{1,2}\)?\s*[-.:)–]\s*")
_HEDGED = re.compile(r"\b(?:partial|partially|partly|planned|in progress|roadmap|some|limited"
                     r"|n/?a|n\.a|not applicable|tbd|unknown|exception|other)\b")
_NEGATED = re.compile(r"\b(?:not|non|never|does not|do not)\b[- ]?(?:yet |fully |currently )?"
                      r"(?:implemented|compliant|comply|supported|available|in place|enabled"
                      r"|met|meets)\b")
_AFFIRMED = re.compile(r"^(?:yes\b[ ,;:-]*)?(?:fully |completely )?(?:implemented|compliant"
                       r"|comply|complies|supported|available|in place|enabled|met|meets)\b")


def verdict_of(value: str) -> str | None:
    """"yes" or "no" for a choice or allowed value that says so ("Yes", "Compliant", "Fully
    implemented", "3 - Fully implemented", "Do not comply", "No (planned)"), else None (N/A,
    "Partially implemented", free text)."""
    name = _LEADING_SCORE.sub("", choice_name(value))
    if name in _YES or name in _NO:
        return "yes" if name in _YES else "no"
    first = name.split(" ", 1)[0].strip("-,;:()")
    if first in ("yes", "no"):  # "Yes - fully", "No (planned)"
        return first
    if _NEGATED.search(name):
        return "no" if not _HEDGED.search(name) else None
    if _AFFIRMED.match(name) and not _HEDGED.search(name):
        return "yes"
    return None


def is_plain(value: str) -> bool:
    """Whether a value is a bare yes or no word ("Yes", "Compliant"), not a longer one."""
    name = choice_name(value)
    return name in _YES or name in _NO


def is_hedged(value: str) -> bool:
    """Whether a value hedges ("Partially implemented", "Planned", "N/A")."""
    return bool(_HEDGED.search(choice_name(value)))


def choice_name(text: str) -> str:
    """A choice as compared: "  N / A: " → "n/a"."""
    folded = " ".join(text.split()).casefold().strip(":*. ")
    return re.sub(r"\s*/\s*", "/", folded)


def choice_columns(header: Mapping[int, str]) -> tuple[tuple[int, str], ...]:
    """Adjacent header cells that are the choices themselves ("Yes | No | N/A"), where a form
    wants an X under one of them: (column, header), in order; () unless they offer at least a
    yes and a no. ``header`` maps column numbers to header texts."""
    runs: list[list[tuple[int, str]]] = [[]]
    for column in sorted(header):
        text = header[column]
        if len(text.split()) > 4 or not (verdict_of(text) or is_hedged(text)):
            runs.append([])
            continue
        if runs[-1] and column != runs[-1][-1][0] + 1:
            runs.append([])
        runs[-1].append((column, " ".join(header[column].split())))
    best: tuple[tuple[int, str], ...] = ()
    for run in runs:
        verdicts = {verdict_of(label) for _, label in run}
        if {"yes", "no"} <= verdicts and len(run) > len(best):
            best = tuple(run)
    return best


_UNTICKED = frozenset({"☐", "□", "❏", "❑"})


def is_marked(text: str) -> bool:
    """Whether a choice cell holds a mark: any text but an empty box ("☐")."""
    stripped = text.strip()
    return bool(stripped) and stripped not in _UNTICKED


def choice_marks(texts: Iterable[str]) -> tuple[str, str]:
    """The mark a form puts under its chosen column, and what the other columns hold, from
    the choice cells it has (``texts``): its own mark and blank when some row is marked
    ("x" / ""), a ticked box where the cells hold empty boxes ("☒" / "☐"), else "X" / ""."""
    short = [t.strip() for t in texts if 0 < len(t.strip()) <= 2]
    boxes = [t for t in short if t in _UNTICKED]
    marks = Counter(t for t in short if t not in _UNTICKED)
    if marks:
        return marks.most_common(1)[0][0], (Counter(boxes).most_common(1)[0][0] if boxes else "")
    if boxes:
        return "☒", Counter(boxes).most_common(1)[0][0]
    return "X", ""


def marked_row(ref: str, labels: Sequence[str], value: str, marks: tuple[str, str]
               ) -> list[str]:
    """What each choice cell of a row holds once ``value`` is chosen: the mark (``marks``,
    from :func:`choice_marks`) under the label that names it, the blank under the others;
    "" leaves them all blank. A value that names none of the labels is refused."""
    mark, blank = marks
    wanted = choice_name(value)
    chosen = next((i for i, label in enumerate(labels) if choice_name(label) == wanted), None)
    if value and chosen is None:
        raise DDQError(ErrorCode.INVALID_INPUT,
                       f"{ref}: {value!r} is none of the choices ({' / '.join(labels)})")
    return [mark if i == chosen else blank for i in range(len(labels))]


#: The values a free-text answer column holds when it is a Yes/No column in all but name
#: (a workbook without a dropdown whose answers are all of these).
YES_NO_ANSWERS = frozenset(
    {
        "yes",
        "no",
        "n/a",
        "na",
        "n.a.",
        "not applicable",
        "partial",
        "partially",
        "partly",
        "y",
        "n",
        "true",
        "false",
        "compliant",
        "non-compliant",
        "not compliant",
        "partially compliant",
        "in progress",
        "planned",
    }
)
