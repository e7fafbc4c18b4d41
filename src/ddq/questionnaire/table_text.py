"""Text rules the questionnaire readers and writers share (XLSX, CSV and Word).

- Whether a cell asks something, and how ids number sections. Forms number their sections
  in the id column too: "1 | Access Control" above "1.1 | Is MFA enforced?". The row whose
  id numbers the next one's section is a heading, unless it asks something itself.
- Which words of a choice or an allowed value say yes or no (verdict_of), which columns are
  the choices themselves ("Yes | No | N/A"), and how a row of them is marked.
- What a form writes in a place that is still empty ("Please select"), a character limit a
  header states, and a number written before a question.
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
