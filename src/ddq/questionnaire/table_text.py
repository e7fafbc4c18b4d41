"""Text heuristics shared by the table-shaped readers (XLSX and CSV).

Whether a cell asks something, and how ids number sections. Forms number their sections in
the id column too: "1 | Access Control" above "1.1 | Is MFA enforced?". The row whose id
numbers the next one's section is a heading, unless it asks something itself.
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
