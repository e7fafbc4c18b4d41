"""Text heuristics shared by the table-shaped readers (XLSX and CSV).

Whether a cell asks something, and how ids number sections. Forms number their sections in
the id column too: "1 | Access Control" above "1.1 | Is MFA enforced?". The row whose id
numbers the next one's section is a heading, unless it asks something itself.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise

from ddq.errors import DDQError, ErrorCode

_QUESTION_START = re.compile(
    r"(?:\d+(?:\.\d+)*[.)]?\s+)?(?:describe|explain|provide|list|please|do|does|did|is|are"
    r"|was|were|have|has|had|can|could|will|would|should|shall|may|must|how|what|when|where"
    r"|which|who|whom|whose|why|indicate|confirm|specify|identify|outline|attach|upload"
    r"|summari[sz]e|define|share|give)\b",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(r"[.\-_ ]+")


def looks_like_question(text: str) -> bool:
    """A question mark, or an opening word that asks ("Describe ...", "Do you ...")."""
    stripped = text.strip()
    if len(stripped) < 8:
        return False
    if stripped.endswith("?"):
        return True
    return len(stripped.split()) >= 3 and _QUESTION_START.match(stripped) is not None


def numbered_inside(section: str, qid: str) -> bool:
    """Whether ``qid`` is numbered inside ``section``: "1" → "1.1", "A" → "A1", "AC" →
    "AC-01"; not "1" → "10"."""
    a, b = section.strip().rstrip(".").casefold(), qid.strip().casefold()
    if not a or len(b) <= len(a) or not b.startswith(a):
        return False
    after = b[len(a)]
    return after in ".-_ " or (a[-1].isalpha() and after.isdigit())


def depth(qid: str) -> int:
    """How deep an id numbers: "1" → 1, "1.2" → 2, "AC-01" → 2."""
    return len(_SEPARATOR.findall(qid.strip().rstrip("."))) + 1


def section_numbers(ids: Sequence[str]) -> set[int]:
    """Positions in ``ids`` (one per row, "" for a row without an id) whose id numbers the
    section of the next id below it."""
    numbered = [(i, qid) for i, qid in enumerate(ids) if qid]
    return {i for (i, qid), (_, following) in pairwise(numbered)
            if numbered_inside(qid, following)}


# --- choices as columns ---------------------------------------------------------------------

_CHOICE_YES = frozenset({
    "yes", "y", "compliant", "fully compliant", "implemented", "in place", "true", "comply",
    "complies", "fully comply", "fully complies"})
_CHOICE_NO = frozenset({
    "no", "n", "non-compliant", "not compliant", "noncompliant", "not implemented", "false",
    "do not comply", "does not comply", "not comply", "non-comply"})
_CHOICE_OTHER = frozenset({
    "n/a", "na", "n.a", "not applicable", "partial", "partially", "partially compliant",
    "partly", "partially comply", "partially complies", "in progress", "planned", "unknown",
    "other"})


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
        name = choice_name(header[column])
        if not (name in _CHOICE_YES or name in _CHOICE_NO or name in _CHOICE_OTHER):
            runs.append([])
            continue
        if runs[-1] and column != runs[-1][-1][0] + 1:
            runs.append([])
        runs[-1].append((column, " ".join(header[column].split())))
    best: tuple[tuple[int, str], ...] = ()
    for run in runs:
        names = {choice_name(label) for _, label in run}
        if names & _CHOICE_YES and names & _CHOICE_NO and len(run) > len(best):
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


_STATED_LIMIT = re.compile(
    r"\b(?:max(?:imum)?\.?(?:\s+of)?|limit(?:ed)?(?:\s+to)?|up\s+to|no\s+more\s+than"
    r"|at\s+most)"
    r"\s*:?\s*(\d{1,3}(?:,\d{3})*|\d+)\s*(?:characters|chars?)\b"
    r"|\b(\d{1,3}(?:,\d{3})*|\d+)\s*(?:-\s*)?(?:characters|chars?)\s*(?:max(?:imum)?|limit)\b",
    re.IGNORECASE,
)


def stated_limit(header: str) -> int | None:
    """The character limit a header states ("Comments (max 500 characters)", "Response -
    250 char limit"), or None."""
    match = _STATED_LIMIT.search(header)
    if match is None:
        return None
    limit = int((match.group(1) or match.group(2)).replace(",", ""))
    return limit if limit > 0 else None


_PLACEHOLDER = re.compile(
    r"^[\[<({]?\s*(?:-+\s*)?(?:"
    r"(?:insert|enter|type|add|provide)\s+(?:your\s+)?(?:answer|response|text|comments?)"
    r"(?:\s+here)?"
    r"|(?:your\s+)?(?:answer|response)(?:\s+here)?"
    r"|click\s+(?:or\s+tap\s+)?here\s+to\s+enter\s+(?:a\s+)?(?:text|date)"
    r"|choose\s+an\s+item"
    r"|(?:please\s+)?(?:select|choose|pick)(?:\s+(?:one|an?\s+(?:option|answer|value|response)"
    r"|from\s+(?:the\s+)?list))?"
    r"|_{3,}|\.{4,}|…+"
    r")\s*(?:\.{3}|…)?\s*(?:-+\s*)?[\])>}]?\s*\.?$",
    re.IGNORECASE,
)


def is_placeholder(text: str) -> bool:
    """Whether a place holds only the form's prompt to fill it ("[Enter comments]", "Please
    select", "-- Select --", "Click here to enter text."), not an answer."""
    return bool(_PLACEHOLDER.match(text.strip()))


_WRITTEN_NUMBER = re.compile(
    r"^\s*(?:"
    r"(?P<q>(?:Q|Question)\s?\d{1,3}(?:\.\d{1,3})*[a-z]?)\s*[.:)\-–]?"
    r"|(?P<n>(?:[A-Z]{1,4}[.\-]|[A-Z])?\d{1,3}(?:\.\d{1,3})*[a-z]?)[.):]?"
    r"|\(?(?P<l>[a-zA-Z]|[ivxIVX]{1,4})[.)]"
    r")\s+(?P<text>\S.*)$",
    re.DOTALL,
)


def split_written_number(text: str) -> tuple[str | None, str]:
    """("1.2", "Describe ...") for "1.2 Describe ..." (also "A.1", "AC-1", "Q3", "b)");
    (None, text) without a number."""
    match = _WRITTEN_NUMBER.match(text)
    if match is None:
        return None, text.strip()
    number = match.group("q") or match.group("n") or match.group("l")
    return number, match.group("text").strip()
