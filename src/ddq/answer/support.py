"""Whether a passage answers *this* question, and how much of it to quote.

- The subject guard: a passage is used only when it is about the question's subject and the
  same party. The question's specific concepts (customer-managed keys, not key management),
  its party (the company's suppliers, not its customers), a change it asks about (extending
  a retention period, not the period) and the numbers that name its subject (SOC 1, not
  SOC 2) must all be in the passage.
- Metadata lines (version, owner, approval and review dates) are evidence only for a
  question that asks for them.
- The quote is the shortest part of a passage that supports the answer: its sentences that
  hold the question's terms (or the value asked for), each sentence once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ddq.answer.question_types import QuestionShape, QuestionType
from ddq.ingest.chunking import split_sentences

_F = re.IGNORECASE

#: Lines about the document rather than the practice: "Version 3.2, approved by …",
#: "Owner: Head of Security", "Next scheduled review: February 2026", "last_reviewed: …".
_METADATA = re.compile(
    r"^\s*(?:[>*_#\s]*)(?:version\s*(?:\d|:)|v\d+(?:\.\d+)*\b|document\s+(?:owner|id|"
    r"version|control)|(?:policy\s+)?owner\s*:|approved\s+(?:by|on)\b|approver\s*:|"
    r"effective\s+(?:date|from)\b|(?:last|next)(?:\s+scheduled)?[\s_]+review(?:ed)?\b|"
    r"review\s+date\b|last[\s_]+(?:updated|modified|revised)\b|classification\s*:|"
    r"revision\s*(?:history|\d)|date\s+(?:approved|issued)\b|status\s*:\s*(?:approved|"
    r"draft|final)\b)", _F)
_ASKS_METADATA = re.compile(
    r"\b(?:version|owner|owns|owned|approv\w*|effective|revision|last\s+(?:reviewed|"
    r"updated)|next\s+review|review\s+date|who\s+(?:is|are)\s+responsible)\b", _F)

#: Predicate words a passage may put another way or leave implied: "Is X performed?" is
#: answered by "X runs every week". They weigh less in a passage's support for a verdict.
LIGHT_WORDS = frozenset(
    """
    performed conducted implemented deployed used enforced required provided supported
    available defined managed addressed applied offered exist exists existing handled taken
    made involved generated assigned place placed carried undertaken established operate
    operates operated operating run runs done active enabled utilized utilised employed
    conduct perform implement deploy provide support offer apply capability capabilities
    ability able receive dedicated major centrally central according ensure ensured
    appropriate relevant mechanism mechanisms practice practices program programme
    function functions coverage capable place events event activity activities rely relies
    across between involved allowed permitted
    """.split())

#: Words that change which practice is meant ("your own datacenters", "a public bug
#: bounty", "independent testing"): a Yes needs them in the passage.
QUALIFIERS = frozenset(
    """
    own public private independent external internal automated automatic manual offline
    onsite premises self physical
    """.split())

_SEVEN = re.compile(r"\b24\s*[/x]\s*7\b", _F)


def is_metadata(unit: str) -> bool:
    """Whether ``unit`` is a document's version / owner / review-date line."""
    return bool(_METADATA.match(unit))


def asks_metadata(question: str, shape: QuestionShape) -> bool:
    """Whether the question asks for a document's version, owner or review dates."""
    return shape.type is QuestionType.DATE or bool(_ASKS_METADATA.search(question))


def subject_numbers(text: str) -> set[str]:
    """The numbers that name a subject, with the name they follow ("SOC 1" -> "soc 1",
    "ISO 27017" -> "iso 27017", "TLS 1.3" -> "tls 1.3"). A number on its own ("within 24
    hours") names none, nor does "24/7"."""
    return {f"{name.lower()} {number}"
            for name, number in _NAMED_NUMBER.findall(_SEVEN.sub(" ", text))}


def names_number(text: str, pair: str) -> bool:
    """Whether ``text`` has the name of ``pair`` followed closely by its number ("ISO/IEC
    27001:2022" has "iso 27001")."""
    name, number = pair.rsplit(" ", 1)
    return bool(re.search(rf"\b{re.escape(name)}\b[^.\d]{{0,12}}\b{re.escape(number)}\b",
                          text, _F))


# An acronym written in capitals, then its number: "SOC 1", "ISO/IEC 27001", "TLS 1.3".
_NAMED_NUMBER = re.compile(r"\b([A-Z]{2,}[A-Z0-9]*)(?:/[A-Z]+)?[\s-]+v?(\d+(?:\.\d+)*)\b")


@dataclass(frozen=True, slots=True)
class Subject:
    """What a passage must be about to answer the question."""

    #: The lexicon's concepts the question names, each with the stems it names it by.
    concepts: dict[str, frozenset[str]]
    #: Those that only one of their forms says (see :mod:`ddq.answer.lexicon`).
    strict: frozenset[str]
    parties: frozenset[str]
    modifiers: frozenset[str]
    numbers: frozenset[str]

    def problem(self, *, concepts: frozenset[str], stems: frozenset[str],
                parties: frozenset[str], modifiers: frozenset[str], text: str,
                support: float) -> str:
        """Why a passage (its concepts, stems, parties, modifiers, text and its support
        for the question's terms) is about something adjacent to the question, or "" when
        it is about the question's subject.

        A concept the passage names in no form of the lexicon's still counts when the
        passage has the question's own words for it and covers the question well ("audit
        logs … protected against tampering" from "logs are protected against
        tampering"); a strict one never does.
        """
        missing = [c for c in sorted(set(self.concepts) - concepts)
                   if c in self.strict or not self.concepts[c] <= stems]
        if any(c in self.strict for c in missing) or (missing and support < _CONCEPT_SUPPORT):
            return f"it does not mention {' or '.join(missing)}"
        if self.parties and parties and not self.parties & parties:
            return (f"it is about {', '.join(sorted(parties))}, not "
                    f"{', '.join(sorted(self.parties))}")
        if self.modifiers - modifiers:
            return ("it states the practice, not whether it can change "
                    f"({', '.join(sorted(self.modifiers - modifiers))})")
        numbers = [n for n in sorted(self.numbers) if not names_number(text, n)]
        if numbers:
            return f"it does not mention {', '.join(n.upper() for n in numbers)}"
        return ""


#: A passage without a form of one of the question's concepts is still about it when it
#: covers this share of the question's key terms.
_CONCEPT_SUPPORT = 0.75


def trim_labels(sentences: list[str], picked: list[int]) -> str:
    """The picked sentences, each with the short label sentence before it when it has one
    ("Customer-managed keys (CMEK / BYOK)." before "Not currently supported.")."""
    out: list[str] = []
    for i in picked:
        if i > 0 and i - 1 not in picked and is_label(sentences[i - 1]) \
                and sentences[i - 1] not in out:
            out.append(sentences[i - 1])
        out.append(sentences[i])
    return " ".join(out)


def without_label(text: str) -> str:
    """``text`` without a leading label sentence ("Authentication. Workforce identity is
    federated…") when what follows says enough on its own."""
    sentences = split_sentences(text)
    if len(sentences) >= 2 and is_label(sentences[0]):
        rest = " ".join(sentences[1:])
        # "Customer-managed keys (CMEK). Not supported…": the label is the subject.
        if len(rest.split()) >= _SELF_STANDING_WORDS and not _BARE_VERDICT.match(rest):
            return rest
    return text


def unique_sentences(lines: Iterable[str]) -> list[str]:
    """``lines`` with each sentence kept once (the first time it appears); a line left with
    nothing new is dropped."""
    seen: list[frozenset[str]] = []
    out: list[str] = []
    for line in lines:
        kept = []
        for sentence in split_sentences(line) or [line]:
            key = frozenset(re.sub(r"[\W_]+", " ", sentence.lower()).split())
            # "Checks are performed where law permits." and "Checks are performed on
            # employees where law permits." say one thing.
            if key and not any(_same_sentence(key, old) for old in seen):
                seen.append(key)
                kept.append(sentence)
        if kept:
            out.append(" ".join(kept))
    return out


_LABEL_WORDS = 6
_SAME_WORDS = 0.75


def _same_sentence(a: frozenset[str], b: frozenset[str]) -> bool:
    return len(a & b) / len(a | b) >= _SAME_WORDS
_BARE_VERDICT = re.compile(r"^\s*(?:not|no|none|yes|n/a|supported|available|unsupported|"
                           r"planned|optional)\b", _F)
_SELF_STANDING_WORDS = 6
_VERBISH = re.compile(r"\b(?:is|are|was|were|be|been|has|have|do|does|not|no|must|will|"
                      r"can|may|shall|should)\b", _F)


def is_label(sentence: str) -> bool:
    """A heading-like sentence: short, no verb, no value ("Log retention: 18 months." is a
    statement)."""
    words = sentence.split()
    return (len(words) <= _LABEL_WORDS and not _VERBISH.search(sentence)
            and not re.search(r"\d|:\s*\S", sentence))
