"""Small text helpers for the answerer: evidence units, key terms, yes/no cues."""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Set as AbstractSet

from ddq.ingest.chunking import split_sentences

# Words that say nothing about what a questionnaire asks (beyond English stop words).
_QUESTION_NOISE = frozenset(
    """
    a an the and or of to in on for with by at from as is are was were be been being do does
    did doing have has had having you your yours we our ours us they their it its this that
    these those there which who whom what when where why how can could would should will shall
    may might must any all each every some such if then than so not no yes please describe
    explain provide list detail details confirm state indicate whether organization
    organisation company vendor supplier currently maintain maintained process processes ensure
    use used using many much most recent latest copy copies type types kind kinds level levels
    specific example examples related relevant applicable attach attached share sample
    least once documented formal formally current established periodic periodically regular
    regularly appropriate adequate kept keep keeps but into about behalf matters up
    """.split()
)
# "re-assessed", "re-acknowledge": the prefix names nothing; the word after it does.
_PREFIXES = frozenset({"re"})
# "Are removable media controls in place?" asks whether they exist: "place" is not a term.
_IN_PLACE = re.compile(r"\bin\s+place\b", re.IGNORECASE)

# Words a questionnaire uses where policies often say the same thing another way.
_ALTERNATIVES: dict[str, tuple[str, ...]] = {
    "annually": ("annual", "year", "yearly"),
    "annual": ("annually", "year", "yearly"),
    "yearly": ("annual", "annually", "year"),
    "quarterly": ("quarter",),
    "monthly": ("month",),
    "weekly": ("week",),
    "daily": ("day",),
    "mfa": ("multi-factor", "multifactor", "2fa"),
    "2fa": ("mfa", "multi-factor", "two-factor"),
    "sso": ("sign-on", "saml"),
    "byok": ("customer-managed",),
    "cmek": ("customer-managed",),
    "dpa": ("processing",),
    "dr": ("disaster",),
    "pentest": ("penetration",),
    "employees": ("staff", "personnel", "workforce"),
    "staff": ("employees", "personnel", "workforce"),
}

_NEGATIVE = re.compile(
    r"\b(?:not|never|no longer|cannot|can't|don't|doesn't|isn't|aren't|won't|unsupported|"
    r"not yet|on the roadmap|roadmap item|planned)\b|"
    r"\bno\b(?!\s+(?:exceptions?|deviations?|later|more|less|longer|fewer|other)\b)",
    re.IGNORECASE,
)
_YES_NO_START = re.compile(
    r"^\s*(?:do|does|did|is|are|was|were|can|could|will|would|have|has|had|should|shall|may)\b",
    re.IGNORECASE,
)
_MAX_UNIT_WORDS = 60


_LEADING_VERDICT = re.compile(r"^\s*(yes|no)\b[.,;:!\s\-–—]*", re.IGNORECASE)


def leading_verdict(text: str) -> str | None:
    """'yes' or 'no' when ``text`` opens with that verdict."""
    match = _LEADING_VERDICT.match(text)
    return match.group(1).lower() if match else None


def strip_verdict(text: str) -> str:
    """An approved answer without its opening Yes/No: that verdict answered another question."""
    stripped = _LEADING_VERDICT.sub("", text, count=1)
    return stripped[:1].upper() + stripped[1:] if stripped else text


def numbers_in(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:\.\d+)*", text))


def is_yes_no_question(question: str) -> bool:
    return bool(_YES_NO_START.match(question))


def has_negative_cue(text: str) -> bool:
    return bool(_NEGATIVE.search(text))


def term_alternatives(term: str) -> tuple[str, ...]:
    """Other words that, in evidence, cover a key term of the question."""
    return _ALTERNATIVES.get(term, ())


def key_words(question: str) -> list[str]:
    """The words of a question that carry its meaning (lower-cased, order kept, unique)."""
    words = re.findall(r"[a-z0-9][a-z0-9\-]*", _IN_PLACE.sub(" ", question).lower())
    out: list[str] = []
    for word in words:
        for part in word.split("-") if "-" in word else [word]:
            if (len(part) > 1 and part not in _QUESTION_NOISE and part not in out
                    and not (part in _PREFIXES and "-" in word)):
                out.append(part)
    return out


def evidence_units(text: str) -> list[str]:
    """Lines of a chunk (list items, table rows, paragraphs); long ones split into sentences."""
    units: list[str] = []
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        if len(line.split()) <= _MAX_UNIT_WORDS:
            units.append(line)
        else:
            units.extend(split_sentences(line))
    return units


def stance_sentences(unit: str, stems_of: Callable[[str], AbstractSet[str]],
                     key_stems: set[str]) -> list[str]:
    """The parts of ``unit`` a yes/no verdict is read from.

    That is the sentence that shares most key terms, and the one after it when the best is a
    label ("Customer-managed keys (CMEK / BYOK). Not currently supported." puts the verdict in
    the sentence after the one that names the subject). Within a sentence, only the clause
    that names the subject counts: in "No secrets in source code; secrets are kept in a
    vault", the "No" is about source code, not about the vault.
    """
    sentences = split_sentences(unit) or [unit]
    best = _most_overlap(sentences, stems_of, key_stems)
    # Only a label-like sentence ("Customer-managed keys (CMEK / BYOK).") hands the verdict
    # to the next one; a full sentence carries its own.
    if len(sentences[best].split()) <= _LABEL_WORDS:
        return [_subject_clause(s, stems_of, key_stems) for s in sentences[best : best + 2]]
    return [_subject_clause(sentences[best], stems_of, key_stems)]


def _subject_clause(sentence: str, stems_of: Callable[[str], AbstractSet[str]],
                    key_stems: set[str]) -> str:
    """The clause of ``sentence`` that shares most key terms (the first on a tie).

    Clauses are split at semicolons and at table-cell bars. A short label clause keeps the
    clause after it, which holds its verdict ("CMEK | Not supported").
    """
    clauses = [c for c in _CLAUSE_BREAK.split(sentence) if c.strip()]
    if len(clauses) < 2:
        return sentence
    best = _most_overlap(clauses, stems_of, key_stems)
    if len(clauses[best].split()) <= _LABEL_CLAUSE_WORDS:
        return " | ".join(clauses[best : best + 2])
    return clauses[best]


def _most_overlap(parts: list[str], stems_of: Callable[[str], AbstractSet[str]],
                  key_stems: set[str]) -> int:
    overlaps = [len(stems_of(part) & key_stems) for part in parts]
    return max(range(len(parts)), key=lambda i: overlaps[i])


_CLAUSE_BREAK = re.compile(r"\s*;\s*|\s+\|\s+")
_LABEL_CLAUSE_WORDS = 4
_UNIVERSAL = re.compile(r"\b(?:all|every|always|each|any|never|fully|100%)\b", re.IGNORECASE)
_LABEL_WORDS = 8


_LABELLED_WORDS = 4
_FIELD_LABEL = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*:\s+(?=\S)")


def answer_line(unit: str) -> str:
    """An evidence line as it reads in an answer: a table record's field label
    ("implementation_statement: Northwind is not ...") is dropped; the citation keeps it."""
    unit = unit.rstrip()
    value = field_value(unit)
    # "last_reviewed: 2026-01-15" means nothing without its label.
    return value if len(value.split()) >= _LABELLED_WORDS else unit


def field_value(unit: str) -> str:
    """A line without a table record's field label ("title: X" -> "X")."""
    return _FIELD_LABEL.sub("", unit.rstrip(), count=1)


def asks_alternatives(question: str) -> bool:
    """Whether the question offers alternatives ("a SOC 2 report or an ISO certificate")."""
    return bool(re.search(r"\bor\b", question, re.IGNORECASE))


def asks_prohibition(question: str) -> bool:
    """Whether the question asks if something is forbidden ("Are shared accounts prohibited?").

    There, evidence that says "never" or "must not" agrees with the question; its negation
    is not a No.
    """
    return bool(_PROHIBITION.search(question))


_PROHIBITION = re.compile(
    r"\b(?:prohibit(?:s|ed)?|forbid(?:s|den)?|disallow(?:s|ed)?|ban(?:s|ned)?|"
    r"not (?:permitted|allowed))\b",
    re.IGNORECASE,
)


def asks_universal(question: str) -> bool:
    """Whether the question asks about all cases ("all findings", "always within a day")."""
    return bool(_UNIVERSAL.search(question))


_SAYS_ALL = re.compile(r"\b(?:all|every|each|always|without\s+exception|100%|any)\b",
                       re.IGNORECASE)
_PAST_OUTCOME = re.compile(r"^\s*(?:were|was|did|have|has|had)\b", re.IGNORECASE)


def says_universal(question: str, evidence: str) -> bool:
    """Whether ``evidence`` states the practice for all cases the question asks about.

    "Is MFA required for every user?" is answered by "enforced for all staff". A question
    about past outcomes ("Were all findings remediated?", "Has every finding been closed?")
    is never: a policy that says findings are remediated says nothing about each one.
    "Always" and "never" want the same word (or "without exception").
    """
    if _PAST_OUTCOME.match(question):
        return False
    asked = {w.lower() for w in _UNIVERSAL.findall(question)}
    said = {w.lower() for w in _SAYS_ALL.findall(evidence)}
    if not said:
        return False
    strict = asked & {"always", "never", "fully", "100%"}
    return not strict or bool(strict & said) or "without exception" in evidence.lower()


_COMMA_CLAUSE = re.compile(
    r"\s*,\s*(?:and\s+|but\s+|or\s+)?|\s+(?:and|but)\s+(?=never\b|not\b|no\b)")


def negation_elsewhere(sentence: str, stems_of: Callable[[str], AbstractSet[str]],
                       key_stems: set[str]) -> bool:
    """Whether every negative cue of ``sentence`` sits in a comma clause that shares no key
    term, while another clause does: "Keys are rotated on a defined schedule, and never
    embedded in code" negates the embedding, not the rotation. A sentence of one clause
    ("Not currently supported.") keeps its negation."""
    clauses = [c for c in _COMMA_CLAUSE.split(sentence) if c and c.strip()]
    if len(clauses) < 2:
        return False
    about = [bool(stems_of(c) & key_stems) for c in clauses]
    negated = [has_negative_cue(c) for c in clauses]
    if not any(negated) or not any(a and not n for a, n in zip(about, negated, strict=True)):
        return False
    return not any(a and n for a, n in zip(about, negated, strict=True))
