"""What asks something, and how forms number and label their questions.

- Whether a cell asks something (:func:`looks_like_question`), and whether a Word paragraph
  does (:func:`paragraph_asks`: prose around questions is longer, so a paragraph must end in
  a question mark or open with an asking word).
- How ids number sections: forms number their sections in the id column too ("1 | Access
  Control" above "1.1 | Is MFA enforced?"); the row whose id numbers the next one's section
  is a heading, unless it asks something itself.
- What a form writes in a place that is still empty ("Please select"), a character limit a
  header states, and a number written before a question.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise

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


_PARAGRAPH_QUESTION_WORDS = frozenset(
    "describe explain provide list please do does did is are was were have has had can could "
    "will would should shall may must how what which when where who whom whose why indicate "
    "confirm state specify outline detail identify summarise summarize attach submit give "
    "discuss clarify".split()
)
_MIN_QUESTION_CHARS = 8


def paragraph_asks(text: str) -> bool:
    """Whether a paragraph of a document reads as a question: it ends in a question mark
    (before closing quotes), or its first word asks ("Describe", "Do", "Please")."""
    text = text.strip()
    if len(text) < _MIN_QUESTION_CHARS:
        return False
    if text.rstrip("\"')”’ ").endswith("?"):
        return True
    first = re.split(r"[\s,:;(]", text, maxsplit=1)[0].lower()
    return first in _PARAGRAPH_QUESTION_WORDS
