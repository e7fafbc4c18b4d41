"""Which approved library answer, if any, answers a new question.

Most questionnaire answers are reuses, and the same question comes back reworded from form
to form: "Do you have a dedicated information security staff or office?" last year is "Does
your organization have a dedicated information security team?" this year. A match as close
as the library threshold (0.86 by default) is reused as it is. Below it, a *reworded* match
is reused too, with a lower confidence and a reason that shows both wordings, but only when
nothing tells the two questions apart:

- the best library question is clearly the best (a margin over the next one), so the match
  is not a choice between two neighbouring controls ("scanned before each release" against
  "scanned monthly");
- the numbers agree both ways ("within 72 hours", "TLS 1.2", "SOC 2");
- the narrow concepts agree (customer-managed keys is not key management), and so do the
  parties (the company's suppliers are not its customers) and the words that ask about a
  change to a value ("extend retention" is not "retention");
- neither asks the negation or the exception of the other ("stored only in the EU" and
  "stored outside the EU" are close in vectors and opposite in meaning).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ddq.answer.lexicon import CONCEPTS, Lexicon
from ddq.answer.text import is_yes_no_question, numbers_in
from ddq.domain import LibraryMatch

#: The least similarity of a reworded match, and its margin over the next library question.
REWORDED_FLOOR = 0.58
REWORDED_MARGIN = 0.12

_POLARITY = re.compile(
    r"\b(?:not|no|never|without|outside|except|other\s+than|excluding|exclude[sd]?|"
    r"any\s+exceptions?|prohibit\w*|forbid\w*|cannot|can't|don't|doesn't|isn't|aren't)\b",
    re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Reuse:
    """The library match to reuse, and whether it is an exact or a reworded one."""

    match: LibraryMatch
    reworded: bool


#: Words that ask about a change to a value ("can retention be extended?"), matched as words.
_CHANGE = re.compile(
    r"\b(?:extend\w*|extension|lengthen\w*|longer|shorten\w*|shorter|overrid\w*|waive\w*|"
    r"exceptions?\s+to|beyond)\b", re.IGNORECASE)
#: Words every questionnaire uses, which say nothing of what a question is about.
_GENERIC = frozenset(
    "do does did you your yours we our us is are was were be been can could will would shall "
    "should may might must have has had a an the this that these those of for to in on at by "
    "with from as or and any all every each it its their them they there how what which who "
    "when where whether "
    "document documented formal formally plan plans policy policies process processes "
    "procedure procedures program programme established maintain maintained defined have "
    "has perform performed provide support organization organisation company product "
    "service services system systems require required ensure place".split())


def _changes(text: str) -> frozenset[str]:
    return frozenset(m.group(0).lower()[:6] for m in _CHANGE.finditer(text))


def _polarity(text: str) -> frozenset[str]:
    return frozenset(" ".join(m.group(0).lower().split()) for m in _POLARITY.finditer(text))


def _says(lexicon: Lexicon, concept: str, stems: frozenset[str]) -> bool:
    """Whether a question's stems hold every word of one of ``concept``'s forms, in any
    order ("Can customers manage their own encryption keys?" says customer-managed keys). A
    question's own words are telling where a passage's scattered ones are not."""
    forms = next((c.forms for c in CONCEPTS if c.name == concept), ())
    return any(set(lexicon.stems(form)) <= stems for form in forms if " " in form.strip())


def same_question(lexicon: Lexicon, asked: str, known: str) -> bool:
    """Whether nothing in the words tells ``asked`` and ``known`` apart (the vectors say
    they are close; this says whether they may still ask different things)."""
    if is_yes_no_question(asked) != is_yes_no_question(known):
        return False
    if numbers_in(asked) != numbers_in(known):
        return False
    if _polarity(asked) != _polarity(known) or _changes(asked) != _changes(known):
        return False
    asked_stems, known_stems = lexicon.stems(asked), lexicon.stems(known)
    asked_set, known_set = frozenset(asked_stems), frozenset(known_stems)
    # They must share a word about the subject, not only "documented" and "plan".
    generic = {s for w in _GENERIC for s in lexicon.stems(w)}
    if not (asked_set & known_set) - generic:
        return False
    # The concepts the field names: a business continuity plan is not an incident response
    # plan. One side naming a narrow concept the other only describes is allowed when the
    # other's words say it all.
    asked_concepts = lexicon.concepts(asked_stems)
    known_concepts = lexicon.concepts(known_stems)
    for concept in asked_concepts ^ known_concepts:
        other = known_set if concept in asked_concepts else asked_set
        if lexicon.is_strict(concept) and not _says(lexicon, concept, other):
            return False
    if asked_concepts and known_concepts and not asked_concepts & known_concepts:
        return False
    # A party named by both must be the same; one form naming "customers" where the other
    # says "the institution" is the same reader's wording, not another party.
    asked_parties, known_parties = lexicon.parties(asked), lexicon.parties(known)
    return not (asked_parties and known_parties and asked_parties != known_parties)


def library_reuse(question: str, matches: Sequence[LibraryMatch], *, threshold: float,
                  lexicon: Lexicon) -> Reuse | None:
    """The approved answer to reuse for ``question``: the closest library question at or
    above ``threshold`` whose numbers the question's include, or else a reworded one (see the
    module's docstring), or None. An entry past its review-by date is never reused."""
    # Past its review-by date, an imported entry is evidence, not an answer to reuse.
    matches = [m for m in matches if not m.chunk.stale()]
    asked_numbers = numbers_in(question)
    close = [m for m in matches if m.similarity >= threshold
             # "SOC 1" is not "SOC 2", nor "ISO 27017" "ISO 27001": numbers must agree.
             and asked_numbers <= numbers_in(m.chunk.question or "")]
    if close:
        return Reuse(max(close, key=lambda m: m.similarity), reworded=False)
    ranked = sorted(matches, key=lambda m: m.similarity, reverse=True)
    if not ranked or ranked[0].similarity < REWORDED_FLOOR:
        return None
    best = ranked[0]
    known = best.chunk.question or ""
    others = [m.similarity for m in ranked[1:]
              if " ".join((m.chunk.question or "").split()).casefold()
              != " ".join(known.split()).casefold()]
    if others and best.similarity - others[0] < REWORDED_MARGIN:
        return None
    if not same_question(lexicon, question, known):
        return None
    return Reuse(best, reworded=True)
