"""Fitting a drafted answer to the form: what goes into which answer place.

- A Yes/No question whose answer place is a dropdown (or a set of check boxes) gets one of the
  allowed values, and the supporting text goes into the notes place when the layout has one.
- A free-text place gets a concise answer (the verdict, when there is one, leads it).
- A question the knowledge base cannot support is left for a person: the dropdown stays
  empty (a guessed value would look answered) and the text place says "Needs input".
"""

from __future__ import annotations

from collections.abc import Sequence

from ddq.answer.text import strip_verdict
from ddq.domain import Answer, AnswerStatus
from ddq.forms import YES_NO_VALUES, Target
from ddq.questionnaire.detect.choices import is_hedged, is_plain, verdict_of

NEEDS_INPUT_TEXT = "Needs input"
#: A concise answer: cut at a sentence end before this many characters.
MAX_ANSWER_CHARS = 1500

def choose_allowed(stance: str | None, allowed: Sequence[str]) -> str | None:
    """The allowed value that says ``stance`` ("yes"/"no"), or None when none does: the
    plain one ("Yes") before a longer one ("Yes - fully"), and an unhedged one before one
    that hedges ("Yes - partially")."""
    if stance not in ("yes", "no"):
        return None
    saying = [v for v in allowed if verdict_of(v) == stance]
    plain = [v for v in saying if is_plain(v)]
    unhedged = [v for v in saying if not is_hedged(v)]
    for group in (plain, unhedged, saying):
        if group:
            return group[0]
    return None


def concise(text: str, limit: int = MAX_ANSWER_CHARS) -> str:
    """``text`` in at most ``limit`` characters: cut after the last whole sentence that fits
    (marked " …"), or at a word when no sentence does."""
    text = text.strip()
    if len(text) <= limit:
        return text
    room = max(1, limit - 2)  # for " …"
    cut = text[:room + 1]
    end = max(cut.rfind(". "), cut.rfind(".\n"), cut.rfind("? "), cut.rfind("! "))
    if end > room // 3:
        return cut[: end + 1] + " …"
    space = cut.rfind(" ", 0, room + 1)
    return (cut[:space] if space > room // 2 else cut[:room]).rstrip() + " …"


def _limit(target: Target | None) -> int:
    if target is None or target.max_chars is None:
        return MAX_ANSWER_CHARS
    return min(MAX_ANSWER_CHARS, target.max_chars)


def fit_answer(answer: Answer, answer_target: Target | None, notes_target: Target | None,
               *, yes_no_column: bool = False) -> dict[str, str]:
    """The values to write, by answer-place ref. ``yes_no_column`` says the answer place
    takes Yes/No/N/A although the form has no dropdown for it."""
    fill: dict[str, str] = {}
    if answer_target is None and notes_target is None:
        return fill
    allowed: Sequence[str] = ()
    if answer_target is not None:
        allowed = answer_target.allowed or (YES_NO_VALUES if yes_no_column else ())
    verdict_place = answer_target is not None and bool(allowed)
    text_target = notes_target if (verdict_place or answer_target is None) else answer_target

    if answer.status is AnswerStatus.NEEDS_INPUT:
        if text_target is not None:
            fill[text_target.ref] = NEEDS_INPUT_TEXT
        return fill

    if verdict_place and answer_target is not None:
        value = choose_allowed(answer.stance, allowed)
        if value is not None:
            fill[answer_target.ref] = value
            if text_target is not None:
                fill[text_target.ref] = concise(strip_verdict(answer.text) or answer.text,
                                                _limit(text_target))
            return fill
        # No verdict the evidence supports: the dropdown stays for a person to choose.
        if text_target is not None:
            fill[text_target.ref] = concise(answer.text, _limit(text_target))
        return fill
    if text_target is not None:
        fill[text_target.ref] = concise(answer.text, _limit(text_target))
    return fill
