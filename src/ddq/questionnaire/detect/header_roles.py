"""The header vocabulary of workbooks: what one header cell names ("id", "question",
"answer", "notes", "section"), cell by cell, so that a title above the header matches none.

CSV files and Word tables read a whole header row with :mod:`.headers` instead; the two
vocabularies grew apart (a workbook's "Status" or "Compliance" column is its answer, a
"Comments / Evidence" header is split into parts) and are kept as they are so that what each
format finds does not change; making them one is a change of behaviour, to be tested on its
own."""

from __future__ import annotations

import re

_ID_HEADER = re.compile(
    r"(?:(?:question|ques|control|item|requirement|req|q|row|line|serial)\s*)?"
    r"(?:id|ref\.?|reference|#|no\.?|nr\.?|number|num|s/n)(?:\s*(?:#|no\.?|number|id))?"
)
_QUESTION_HEADER = re.compile(
    r"(?:(?:control|security|assessment|vendor|audit|due diligence)\s+)?"
    r"(?:questions?|question text|question description|requirements?|requirement text"
    r"|quer(?:y|ies)|items?|prompt|control description|control question)"
)
_ANSWER_HEADER = re.compile(
    r"(?:(?:vendor|supplier|provider|service provider|bidder|your|company|respondent)"
    r"(?:'s)?\s+)?"
    r"(?:responses?|answers?|reply|compliant|compliance|compliance status|status"
    r"|yes/no|y/n|yes/no/n/?a|yes/no/partial|implemented|in place|selection)"
)
_NOTES_HEADER = re.compile(
    r"(?:(?:vendor|supplier|additional|supporting|response|further|other|csp|provider)\s+)?"
    r"(?:comments?|notes?|details?|explanations?|additional information|additional info"
    r"|implementation (?:description|details|statement|notes)"
    r"|information|evidence|justification|remarks?|supporting|supporting evidence"
    r"|supporting information|supporting documentation|documentation|clarification"
    r"|rationale|commentary|elaboration)"
)
_SECTION_HEADER = re.compile(
    r"(?:(?:control|question|security|ccm)\s+)?"
    r"(?:domain|section|category|area|topic|family|group|sub-?domain|sub-?category|chapter)"
    r"(?:\s+(?:name|title))?"
)
_NOTES_WORDS = re.compile(
    r"\b(?:comments?|notes?|details?|explanation|evidence|justification|remarks?|supporting"
    r"|additional information|clarification|rationale)\b"
)
_ANSWER_WORDS = re.compile(r"\b(?:responses?|answers?)\b")
_ROLE_PATTERNS = (
    ("id", _ID_HEADER),
    ("section", _SECTION_HEADER),
    ("answer", _ANSWER_HEADER),
    ("question", _QUESTION_HEADER),
    ("notes", _NOTES_HEADER),
)
_PART_SEPARATOR = re.compile(r"\s*(?:/|&|\||,|\band\b|\bor\b)\s*")


def _norm_header(text: str) -> str:
    lowered = " ".join(text.split()).casefold()
    lowered = re.sub(r"\s*\([^)]*\)\s*$", "", lowered)  # "Response (Yes/No/N/A)"
    lowered = lowered.rstrip(":*. ").strip()
    return re.sub(r"\s*/\s*", "/", lowered)


def _exact_role(text: str) -> str | None:
    for role, pattern in _ROLE_PATTERNS:
        if pattern.fullmatch(text):
            return role
    return None


def header_role(text: str) -> str | None:
    """What a header cell names: "id", "question", "answer", "notes", "section", or None.

    Matches the whole header first, then each part of a compound header ("Comments /
    Evidence"), then looks for a telling word, so that titles above the header do not match.
    """
    norm = _norm_header(text)
    if not norm or len(norm) > 60:
        return None
    role = _exact_role(norm)
    if role is not None:
        return role
    for part in _PART_SEPARATOR.split(norm):
        role = _exact_role(part) if part else None
        if role is not None:
            return role
    if _NOTES_WORDS.search(norm):
        return "notes"
    if _ANSWER_WORDS.search(norm):
        return "answer"
    return None
