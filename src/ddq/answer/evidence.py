"""The answerer's working nouns: an evidence unit (a line or sentence of a retrieved
chunk), a question's plan (its terms, concepts and subject, and the units that may answer
it), and a small thread-safe memo for what is derived from texts."""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from ddq.answer.lexicon import Lexicon
from ddq.answer.question_types import QuestionShape, QuestionType
from ddq.answer.support import LIGHT_WORDS, Subject
from ddq.domain import StoredChunk
from ddq.ingest.chunking import split_sentences

T = TypeVar("T")

_THIS_DOCUMENT = re.compile(
    r"\b(?:this|the)\s+(?:policy|standard|plan|procedure|programme|program|handbook)\b",
    re.IGNORECASE)


def sentences_of(text: str) -> list[str]:
    return split_sentences(text) or [text]


def where(unit: Unit) -> str:
    """A unit's file name, for reasons."""
    return unit.chunk.source_path.replace("\\", "/").rsplit("/", 1)[-1]


def clip(text: str, words: int = 18) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")



@dataclass(frozen=True, slots=True)
class Unit:
    chunk: StoredChunk
    text: str

    @property
    def in_context(self) -> str:
        """The unit under its section heading: "Classification Tiers: Public — ..." is what
        makes a bare list item match the question it answers."""
        headings = self.chunk.location.heading_path
        return f"{headings[-1]}: {self.text}" if headings else self.text

    @property
    def said(self) -> str:
        """What the unit says, for its terms: in context, and with the document it names
        ("The policy is reviewed yearly" under "Information Security Policy" is about the
        information security policy)."""
        headings = self.chunk.location.heading_path
        if len(headings) > 1 and _THIS_DOCUMENT.search(self.text):
            return f"{headings[0]}: {self.in_context}"
        return self.in_context


@dataclass(frozen=True, slots=True)
class Plan:
    """A question with its evidence units and key terms, before any vector is needed."""

    question: str
    #: The question's vector when retrieval passed it on, else None (looked up with units).
    vector: np.ndarray | None
    shape: QuestionShape
    terms: list[str]
    units: list[Unit]
    stems: dict[str, str]
    accepted: dict[str, set[str]]
    #: The lexicon's concepts each term is part of in the question ("mfa" -> MFA).
    concepts_of: dict[str, frozenset[str]]
    weights: dict[str, float]
    unit_stems: list[frozenset[str]]
    unit_concepts: list[frozenset[str]]
    subject: Subject
    lexicon: Lexicon
    #: The question's own words, lower-cased: a name it uses is not the name it asks for.
    asked_words: frozenset[str]

    @property
    def value_type(self) -> QuestionType | None:
        """The type of value the answer should hold (None for a plain verdict, a list or a
        description)."""
        kind = self.shape.wants or self.shape.type
        return kind if kind not in (QuestionType.VERDICT, QuestionType.DESCRIPTION,
                                    QuestionType.NOT_A_QUESTION) else None

    def coverage(self, indices: list[int], *, light: bool = False
                 ) -> tuple[float, list[str]]:
        """Share of the key terms' weight the units cover, and the terms they miss. With
        ``light``, predicate words ("performed", "enforced") weigh a third: a passage
        may say them another way."""
        present: set[str] = set().union(*(self.unit_stems[i] for i in indices))
        concepts: set[str] = set().union(*(self.unit_concepts[i] for i in indices))
        hit = {t for t in self.stems
               if self.accepted[t] & present or self.concepts_of[t] & concepts}
        missing = [t for t in self.stems if t not in hit]

        def weight(term: str) -> float:
            w = self.weights[self.stems[term]]
            return w / 3 if light and term in LIGHT_WORDS else w

        total = sum(weight(t) for t in self.stems) or 1.0
        return sum(weight(t) for t in hit) / total, missing

    def weight_of(self, terms: set[str]) -> float:
        """The share of the key terms' weight that ``terms`` make up."""
        total = sum(self.weights.values()) or 1.0
        return sum(self.weights[self.stems[t]] for t in terms) / total

    def problem(self, indices: list[int]) -> str:
        """Why these units are about something adjacent to the question ("" if not)."""
        units = [self.units[i] for i in indices]
        text = " ".join(u.in_context for u in units)
        return self.subject.problem(
            concepts=frozenset().union(*(self.unit_concepts[i] for i in indices)),
            stems=frozenset().union(*(self.unit_stems[i] for i in indices)),
            parties=self.lexicon.parties(text), modifiers=self.lexicon.modifiers(text),
            text=text, support=self.coverage(indices, light=True)[0])


def units_that_count(unfit: Sequence[str], may_support: Sequence[bool]) -> list[int]:
    """The units of a question whose vectors can change its answer, to embed first.

    A unit that cannot answer the question (``unfit`` gives it a reason) and cannot support
    the answering one (``may_support``), for what its words say, changes nothing the
    answer holds whatever its vector: the answering unit is the closest of those that may
    answer, and the supporting ones are picked among those that may support. Only an
    abstention needs every vector (it names the closest passage of all), so when no unit
    may answer, every unit counts; when some may, but none matches closely enough, the
    answerer embeds the rest then.
    """
    if all(unfit):
        return list(range(len(unfit)))
    return [i for i, (why, support) in enumerate(zip(unfit, may_support, strict=True))
            if not why or support]


def label_of(chunk: StoredChunk) -> tuple[str, str]:
    return chunk.source_path, chunk.location.describe()


class Memo(Generic[T]):
    """A bounded map from text to what was derived from it, oldest dropped first; safe to
    share between the drafting threads of :class:`ddq.answer.grounded.GroundedDrafter`."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: dict[str, T] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> T | None:
        return self._items.get(key)

    def get_or_make(self, key: str, make: Callable[[str], T]) -> T:
        found = self._items.get(key)
        return self.put(key, make(key)) if found is None else found

    def put(self, key: str, value: T) -> T:
        with self._lock:
            self._items[key] = value
            if len(self._items) > self.size:
                for old in list(itertools.islice(self._items, len(self._items) // 10 or 1)):
                    del self._items[old]
        return value

