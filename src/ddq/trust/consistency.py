"""One questionnaire, one story: contradictions between the drafts of one questionnaire.

Three kinds, each finding naming both questions and the passages:

- **verdict**: two near-duplicate questions (embedding cosine >= ``verdict_similarity``)
  answered Yes and No. A question asked the other way round ("permitted" / "prohibited",
  "without") expects the opposite verdict, so Yes and Yes is then the contradiction.
- **value**: the same fact stated with two values: durations compared in hours ("12 months"
  is "one year"), frequencies in times a year ("every six months" is twice a year). The fact
  is the clause that holds the value, with the value taken out, and its question; two facts
  are the same when their embeddings are close (>= ``value_similarity``).
- **passage**: a Yes and a No citing the same passage (same source, location and quoted
  text), unless one question is asked the other way round, or the passage itself states a
  negative ("never", "prohibited"): a prohibition answers "is X allowed?" No and "is the
  alternative required?" Yes, and the check cannot tell which is which.

Two things that are not the same subject, whatever the embeddings say: questions whose own
identifiers differ (RTO / RPO, ISO 27001 / 27701, SAML / SCIM, SOC 1 / SOC 2), and questions
on two sides of one scope (public / private network, employees / contractors, production /
staging, critical / low priority, database / file server).

**Bounded time**: each question is compared with its ``neighbours`` nearest questions by
embedding (and each stated value with its nearest values of the same type), found by a
matrix product in blocks of 1,024 rows, so the pairs checked grow as N x neighbours, not N^2,
and memory as 1,024 x N; the passage check is a lookup of shared passages. Measured: see
docs/evaluation.md.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from ddq.answer.question_types import QuestionType
from ddq.answer.values import type_words, value_in
from ddq.domain import AnswerStatus
from ddq.models.base import Embedder, Vectors
from ddq.store.questionnaires import QuestionnaireStore
from ddq.trust.amounts import duration_hours, times_a_year


class Kind(StrEnum):
    VERDICT = "verdict"
    VALUE = "value"
    PASSAGE = "passage"


@dataclass(frozen=True, slots=True)
class Passage:
    source_path: str
    location: str
    quote: str = ""

    def describe(self) -> str:
        quote = f': "{self.quote[:160]}"' if self.quote else ""
        return f"{self.source_path} ({self.location}){quote}"


@dataclass(frozen=True, slots=True)
class Item:
    """One drafted answer: the question's id as the file shows it, the texts, the verdict."""

    ref: str
    question: str
    answer: str
    stance: str | None = None
    citations: tuple[Passage, ...] = ()
    needs_input: bool = False


@dataclass(frozen=True, slots=True)
class Finding:
    kind: Kind
    first: Item
    second: Item
    detail: str
    passages: tuple[Passage, ...] = ()
    score: float = 0.0

    @property
    def pair(self) -> frozenset[str]:
        return frozenset((self.first.ref, self.second.ref))

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "detail": self.detail,
            "questions": [
                {"id": item.ref, "question": item.question, "answer": item.answer}
                for item in (self.first, self.second)
            ],
            "passages": [
                {"source": p.source_path, "location": p.location, "quote": p.quote}
                for p in self.passages
            ],
        }


@dataclass(frozen=True, slots=True)
class Thresholds:
    verdict_similarity: float = 0.60
    #: Below this similarity, near-duplicates must also share this much of their words.
    verdict_sure: float = 0.75
    verdict_overlap: float = 0.25
    value_similarity: float = 0.65
    neighbours: int = 10


@dataclass(frozen=True, slots=True)
class CheckReport:
    findings: list[Finding]
    items: int
    pairs_compared: int
    thresholds: Thresholds = field(default_factory=Thresholds)

    def to_json(self) -> dict[str, object]:
        return {
            "answers": self.items,
            "pairs_compared": self.pairs_compared,
            "neighbours": self.thresholds.neighbours,
            "contradictions": [f.to_json() for f in self.findings],
        }


# --- words ---------------------------------------------------------------------------------

_WORD = re.compile(r"[A-Za-z0-9]+")
_STOP = frozenset(
    """
a an the and or of to in on at for by with from as is are was were be been being do does did
done have has had you your yours we our us they their it its this that these those there any
all every each which what who whom how when where whether if can could would should shall
will may might must please describe explain provide list state confirm indicate company
organisation organization ensure use used using get gets given keep kept make made such
before after than then also only into via per
""".split()
)
# Said the other way round: a question with one of these expects the opposite verdict.
_NEGATIONS = re.compile(
    r"\b(?:not|never|no|without|prohibit\w*|forbid\w*|disallow\w*|bann?(?:ed|s)?|block\w*|"
    r"prevent\w*|den(?:y|ied|ies)|disabl\w*|cannot|can't|isn't|aren't|don't|doesn't|"
    r"out\s+of|free\s+of|outside)\b",
    re.IGNORECASE,
)
# Two sides of one scope: words (prefixes) of one group against another group's.
_SCOPES: tuple[tuple[tuple[str, ...], ...], ...] = (
    (("public", "external", "internet"), ("private", "internal", "inside")),
    (
        ("employee", "staff", "workforce", "personnel"),
        ("contractor", "vendor", "supplier", "third", "partner"),
    ),
    (("production",), ("staging", "test", "development", "dev", "sandbox", "qa")),
    (("rest", "disk", "storage"), ("transit", "wire")),
    (("critical", "high", "urgent"), ("low", "medium", "minor")),
    (("database",), ("file",)),
    (("premise", "premises", "prem"), ("cloud", "region")),
    (("email", "mail"), ("production",)),
    (("privileged", "admin"), ("standard", "regular")),
    (("board",), ("committee",)),
    (("key", "keys"), ("certificate", "certificates", "password", "passwords")),
    (("billing",), ("core", "platform")),
    (
        ("customer", "client", "tenant"),
        ("employee", "staff", "workforce", "administrator", "admin", "engineer"),
    ),
    (("shared", "generic", "common"), ("individual", "named", "personal", "unique")),
)
# The field's acronyms, so that "multi-factor authentication" and "MFA" are one word.
_ACRONYMS = {
    "RTO": r"recovery\s+time\s+objectives?",
    "RPO": r"recovery\s+point\s+objectives?",
    "MFA": r"multi-?\s?factor\s+authentication|two-?\s?factor\s+authentication|2FA",
    "DPO": r"data\s+protection\s+officers?",
    "WAF": r"web\s+application\s+firewalls?",
    "SSO": r"single\s+sign-?\s?on",
    "SIEM": r"security\s+information\s+and\s+event\s+management",
    "NDA": r"non-?\s?disclosure\s+agreements?|confidentiality\s+agreements?",
    "VPN": r"virtual\s+private\s+networks?",
    "CISO": r"chief\s+information\s+security\s+officer",
}
_EXPANSIONS = [
    (re.compile(rf"\b(?:{form})\b", re.IGNORECASE), short) for short, form in _ACRONYMS.items()
]


def abbreviate(text: str) -> str:
    """``text`` with the field's long forms written as their acronyms."""
    for pattern, short in _EXPANSIONS:
        text = pattern.sub(short, text)
    return text


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text) if w.lower() not in _STOP]


def _stem(word: str) -> str:
    for suffix in ("ations", "ation", "ings", "ing", "ies", "ed", "es", "s", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def overlap(a: str, b: str) -> float:
    """Jaccard overlap of the two texts' content words, roughly stemmed."""
    sa, sb = {_stem(w) for w in words(a)}, {_stem(w) for w in words(b)}
    return len(sa & sb) / len(sa | sb) if sa | sb else 0.0


def identifiers(text: str) -> set[str]:
    """Acronyms and numbers: 'RTO', 'ISO', '27001', 'SOC', '2'."""
    return {
        w.lower()
        for w in _WORD.findall(text)
        if re.fullmatch(r"[A-Z]{2,}[a-z]?|\d+", w) and w.lower() not in {"i", "a"}
    }


def negated(question: str) -> bool:
    return len(_NEGATIONS.findall(question)) % 2 == 1


def _scope_sides(tokens: set[str]) -> set[tuple[int, int]]:
    sides = set()
    for axis, groups in enumerate(_SCOPES):
        for side, group in enumerate(groups):
            if any(t.startswith(g) for t in tokens for g in group):
                sides.add((axis, side))
    return sides


def different_subjects(a: str, b: str) -> str | None:
    """Why the two texts are about different things, or None."""
    ids_a, ids_b = identifiers(a), identifiers(b)
    if ids_a - ids_b and ids_b - ids_a:
        return f"{', '.join(sorted(ids_a - ids_b))} vs {', '.join(sorted(ids_b - ids_a))}"
    wa, wb = set(words(a)), set(words(b))
    only_a, only_b = _scope_sides(wa - wb), _scope_sides(wb - wa)
    for axis, side in only_a:
        if (axis, 1 - side) in only_b and (axis, side) not in only_b:
            return "another scope"
    return None


def stance_of(item: Item) -> str | None:
    if item.needs_input:
        return None
    if item.stance in ("yes", "no"):
        return item.stance
    first = re.match(r"\s*(yes|no)\b", item.answer, re.IGNORECASE)
    return first.group(1).lower() if first else None


# --- values --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mention:
    item: int
    kind: QuestionType
    value: str
    amount: float
    #: The question and the clause, the value taken out; and their topic words.
    text: str
    subject: str


def _clauses(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+|[;,—–]|\b(?:and|but|while|whereas)\b", text)
    return [p.strip() for p in parts if p and p.strip()]


def mentions(index: int, item: Item) -> list[Mention]:
    """Every duration and frequency the answer states, with the fact it is stated of."""
    if item.needs_input:
        return []
    found: list[Mention] = []
    for clause in _clauses(item.answer):
        rest = clause
        taken: list[tuple[QuestionType, str, float]] = []
        for kind, measure in (
            (QuestionType.FREQUENCY, times_a_year),
            (QuestionType.DURATION, duration_hours),
        ):
            while (value := value_in(rest, kind)) is not None:
                rest = rest.replace(value, " ", 1)
                amount = measure(value)
                if amount is not None:
                    taken.append((kind, value, amount))
        for kind, value, amount in taken:
            text = abbreviate(f"{item.question} {rest}")
            found.append(Mention(index, kind, value, amount, text, topic(text, kind)))
    return found


# Words that say a value is stated, not what it is stated of.
_VALUE_VERBS = frozenset(
    """
how long often frequently quickly retained retain retention kept stored store held hold
performed perform taken take run runs carried out complete completed receive received
process program programme strategy period timeframe within after least most up time
""".split()
)


def topic(text: str, kind: QuestionType) -> str:
    """What a value is stated of: the words of its question and clause, without the words
    that only say a value is asked or given, each once."""
    skip = _VALUE_VERBS | type_words(kind)
    return " ".join(dict.fromkeys(w for w in words(text) if w not in skip))


def _differ(a: float, b: float) -> bool:
    if math.isinf(a) or math.isinf(b):
        return a != b
    return abs(a - b) > 0.01 * max(abs(a), abs(b))


# --- neighbours ----------------------------------------------------------------------------


def neighbour_pairs(
    vectors: Vectors, k: int, minimum: float, block: int = 1024
) -> Iterable[tuple[int, int, float]]:
    """(i, j, cosine) with i < j for each row's ``k`` nearest rows at or above ``minimum``."""
    n = len(vectors)
    seen: set[tuple[int, int]] = set()
    for start in range(0, n, block):
        sims = vectors[start : start + block] @ vectors.T
        for row, scores in enumerate(sims):
            i = start + row
            scores[i] = -1.0
            take = min(k, n - 1)
            if take <= 0:
                continue
            top = np.argpartition(-scores, take - 1)[:take]
            for j in top:
                score = float(scores[j])
                pair = (min(i, int(j)), max(i, int(j)))
                if score >= minimum and pair not in seen:
                    seen.add(pair)
                    yield pair[0], pair[1], score


# --- the check -----------------------------------------------------------------------------


def _passage_key(p: Passage) -> tuple[str, str, str]:
    return (p.source_path, p.location, " ".join(p.quote.lower().split()))


def _passage_findings(items: Sequence[Item]) -> dict[frozenset[int], Finding]:
    by_passage: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for index, item in enumerate(items):
        for citation in item.citations:
            by_passage[_passage_key(citation)].append(index)
    found: dict[frozenset[int], Finding] = {}
    for key, indexes in by_passage.items():
        if _NEGATIONS.search(key[2]):
            continue  # a passage that states a negative answers both ways
        yes = [i for i in dict.fromkeys(indexes) if stance_of(items[i]) == "yes"]
        no = [i for i in dict.fromkeys(indexes) if stance_of(items[i]) == "no"]
        for i in yes:
            for j in no:
                if negated(items[i].question) != negated(items[j].question):
                    continue
                passage = next(c for c in items[i].citations if _passage_key(c) == key)
                found.setdefault(
                    frozenset((i, j)),
                    Finding(
                        Kind.PASSAGE,
                        items[i],
                        items[j],
                        f"{items[i].ref} is Yes and {items[j].ref} is No, citing the same passage",
                        (passage,),
                        1.0,
                    ),
                )
    return found


def check_items(
    items: Sequence[Item], embedder: Embedder, thresholds: Thresholds = Thresholds()
) -> CheckReport:
    """Every contradiction among ``items`` (see the module docstring), in bounded time."""
    findings = _passage_findings(items)
    compared = 0
    if len(items) > 1:
        questions = [abbreviate(i.question) for i in items]
        vectors = embedder.embed(questions)
        for i, j, score in neighbour_pairs(
            vectors, thresholds.neighbours, thresholds.verdict_similarity
        ):
            compared += 1
            a, b = items[i], items[j]
            sa, sb = stance_of(a), stance_of(b)
            if sa is None or sb is None or frozenset((i, j)) in findings:
                continue
            qa, qb = questions[i], questions[j]
            flipped = negated(qa) != negated(qb)
            if (
                (sa != sb) == flipped
                or different_subjects(qa, qb)
                or (
                    score < thresholds.verdict_sure and overlap(qa, qb) < thresholds.verdict_overlap
                )
            ):
                continue
            how = (
                "asked the other way round and answered the same"
                if flipped
                else f"answered {sa.capitalize()} and {sb.capitalize()}"
            )
            shared = tuple(
                c for c in a.citations if _passage_key(c) in {_passage_key(d) for d in b.citations}
            )
            findings[frozenset((i, j))] = Finding(
                Kind.PASSAGE if shared else Kind.VERDICT,
                a,
                b,
                f"near-duplicate questions (similarity {score:.2f}) {how}"
                + (", citing the same passage" if shared else ""),
                shared or a.citations + b.citations,
                score,
            )
    said = [m for index, item in enumerate(items) for m in mentions(index, item)]
    if len(said) > 1:
        vectors = embedder.embed([m.subject for m in said])
        for x, y, score in neighbour_pairs(
            vectors, thresholds.neighbours, thresholds.value_similarity
        ):
            compared += 1
            m, n = said[x], said[y]
            pair = frozenset((m.item, n.item))
            if (
                m.item == n.item
                or m.kind is not n.kind
                or pair in findings
                or not _differ(m.amount, n.amount)
                or different_subjects(m.text, n.text)
            ):
                continue
            a, b = items[m.item], items[n.item]
            findings[pair] = Finding(
                Kind.VALUE,
                a,
                b,
                f'"{m.value}" in {a.ref} and "{n.value}" in {b.ref} for the same fact '
                f"(similarity {score:.2f})",
                a.citations + b.citations,
                score,
            )
    ordered = sorted(findings.values(), key=lambda f: (f.kind.value, -f.score, f.first.ref))
    return CheckReport(ordered, len(items), compared, thresholds)


# --- a job's drafts ------------------------------------------------------------------------


def job_items(store: QuestionnaireStore, questionnaire_id: int) -> list[Item]:
    """The newest draft of every question of a job, as the check reads them."""
    drafts = store.drafts(questionnaire_id)
    items = []
    for question in store.questions(questionnaire_id):
        draft = drafts.get(question.id)
        if draft is None:
            continue
        items.append(
            Item(
                ref=question.qid or question.key or f"#{question.ordinal + 1}",
                question=question.text,
                answer=draft.text,
                stance=draft.stance,
                citations=tuple(
                    Passage(c.source_path, c.location, c.quote) for c in draft.citations
                ),
                needs_input=draft.status is AnswerStatus.NEEDS_INPUT,
            )
        )
    return items
