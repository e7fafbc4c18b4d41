"""Per-question-type outcomes and confidence calibration of a graded golden-set run.

Both tables work on graded cases (anything with the :class:`Graded` attributes), so that
they can be computed from one golden set or from several together, and checked on a small
hand-made set without a model.

- **By question type**: of the cases of each type, how many were answered, how many of
  those answers were correct and how many wrong, and how many were left for a person.
  *Answered % of answerable* counts only the cases that have an answer in the knowledge base;
  *wrong % of answered* counts every answer given, including answers to questions that should
  have been left for a person.
- **Calibration**: the answers (abstentions are not answers) grouped by their confidence, and
  the share of each band that was correct: a confidence means something when the share rises
  with it. Beside it the *exact* share: answers whose outcome is exactly the expected one (a
  Yes where Yes was expected, not only a supporting passage without the verdict).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

#: The confidence bands of the reliability table: [low, high), the last one closed at 1.
BANDS: tuple[tuple[float, float], ...] = (
    (0.0, 0.3), (0.3, 0.5), (0.5, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.0))
#: The band the acceptance of issue 20 is about: answers this confident must be right.
HIGH_CONFIDENCE = 0.8
TARGET_PRECISION = 0.95

_TYPE_ORDER = ("verdict", "frequency", "duration", "date", "version", "named", "list",
               "description", "not_a_question")


class Graded(Protocol):
    """What both tables read from a graded case."""

    @property
    def question_type(self) -> str: ...
    @property
    def answerable(self) -> bool: ...
    @property
    def answered(self) -> bool: ...
    @property
    def correct(self) -> bool: ...
    @property
    def exact_correct(self) -> bool: ...
    @property
    def confidence(self) -> float: ...


def _ratio(hits: int, of: int) -> float | None:
    return hits / of if of else None


@dataclass(frozen=True, slots=True)
class TypeRow:
    type: str
    cases: int
    answerable: int
    #: Answers given, to any case (also to a case that should have been left for a person).
    answered: int
    correct: int
    wrong: int
    abstained: int
    #: Answers given to answerable cases.
    answered_answerable: int

    @property
    def answered_of_answerable(self) -> float | None:
        return _ratio(self.answered_answerable, self.answerable)

    @property
    def wrong_of_answered(self) -> float | None:
        return _ratio(self.wrong, self.answered)

    def to_json(self) -> dict[str, object]:
        return {"type": self.type, "cases": self.cases, "answerable": self.answerable,
                "answered": self.answered, "correct": self.correct, "wrong": self.wrong,
                "abstained": self.abstained, "answered_answerable": self.answered_answerable,
                "answered_of_answerable": self.answered_of_answerable,
                "wrong_of_answered": self.wrong_of_answered}


def _type_row(name: str, cases: Sequence[Graded]) -> TypeRow:
    answered = [c for c in cases if c.answered]
    correct = sum(c.correct for c in answered)
    return TypeRow(name, len(cases), sum(c.answerable for c in cases), len(answered),
                   correct, len(answered) - correct, len(cases) - len(answered),
                   sum(c.answerable for c in answered))


def by_type(cases: Iterable[Graded]) -> list[TypeRow]:
    """One row per question type present, in a fixed order, then an ``all`` row."""
    cases = list(cases)
    groups: dict[str, list[Graded]] = {}
    for case in cases:
        groups.setdefault(case.question_type, []).append(case)
    order = {name: i for i, name in enumerate(_TYPE_ORDER)}
    names = sorted(groups, key=lambda n: (order.get(n, len(order)), n))
    return [_type_row(n, groups[n]) for n in names] + [_type_row("all", cases)]


@dataclass(frozen=True, slots=True)
class BandRow:
    low: float
    high: float
    answers: int
    correct: int
    exact: int = 0

    @property
    def label(self) -> str:
        closing = "]" if self.high >= 1.0 else ")"
        return f"[{self.low:.1f}, {self.high:.1f}{closing}"

    @property
    def rate(self) -> float | None:
        return _ratio(self.correct, self.answers)

    @property
    def exact_rate(self) -> float | None:
        return _ratio(self.exact, self.answers)

    def to_json(self) -> dict[str, object]:
        return {"low": self.low, "high": self.high, "answers": self.answers,
                "correct": self.correct, "rate": self.rate, "exact": self.exact,
                "exact_rate": self.exact_rate}


def _band_of(confidence: float) -> int:
    for i, (low, high) in enumerate(BANDS):
        if low <= confidence < high:
            return i
    return len(BANDS) - 1 if confidence >= BANDS[-1][0] else 0


def calibration(cases: Iterable[Graded]) -> list[BandRow]:
    """The reliability table: every band, with the answers in it and how many were correct."""
    answers = [0] * len(BANDS)
    correct = [0] * len(BANDS)
    exact = [0] * len(BANDS)
    for case in cases:
        if not case.answered:
            continue
        band = _band_of(case.confidence)
        answers[band] += 1
        correct[band] += case.correct
        exact[band] += case.exact_correct
    return [BandRow(low, high, answers[i], correct[i], exact[i])
            for i, (low, high) in enumerate(BANDS)]


def at_least(cases: Iterable[Graded], threshold: float = HIGH_CONFIDENCE) -> BandRow:
    """The answers with confidence ≥ ``threshold``, as one band."""
    chosen = [c for c in cases if c.answered and c.confidence >= threshold]
    return BandRow(threshold, 1.0, len(chosen), sum(c.correct for c in chosen),
                   sum(c.exact_correct for c in chosen))


def threshold_for(cases: Iterable[Graded], target: float = TARGET_PRECISION
                  ) -> float | None:
    """The lowest confidence t such that the answers with confidence ≥ t are at least
    ``target`` correct (None when no t is): a measured "needs input" threshold."""
    answers = [c for c in cases if c.answered]
    for t in sorted({c.confidence for c in answers}):
        kept = [c for c in answers if c.confidence >= t]
        if sum(c.correct for c in kept) >= target * len(kept):
            return t
    return None


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def format_by_type(rows: Sequence[TypeRow]) -> str:
    lines = ["| type | cases | answerable | answered | correct | wrong | abstained | "
             "answered % of answerable | wrong % of answered |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        name = f"**{r.type}**" if r.type == "all" else r.type
        lines.append(f"| {name} | {r.cases} | {r.answerable} | {r.answered} | {r.correct} | "
                     f"{r.wrong} | {r.abstained} | {_pct(r.answered_of_answerable)} | "
                     f"{_pct(r.wrong_of_answered)} |")
    return "\n".join(lines)


def format_calibration(cases: Sequence[Graded]) -> str:
    lines = ["| confidence | answers | correct | correct % | exact % |", "|---|---|---|---|---|"]
    for band in calibration(cases):
        lines.append(f"| {band.label} | {band.answers} | {band.correct} | "
                     f"{_pct(band.rate)} | {_pct(band.exact_rate)} |")
    high = at_least(cases)
    lines.append(f"| **≥ {HIGH_CONFIDENCE:.1f}** | {high.answers} | {high.correct} | "
                 f"**{_pct(high.rate)}** | {_pct(high.exact_rate)} |")
    t = threshold_for(cases)
    lines += ["", f"- lowest confidence at which the answers above it are ≥ "
              f"{TARGET_PRECISION:.0%} correct: " + ("none" if t is None else f"{t:.2f}")]
    return "\n".join(lines)


def calibration_json(cases: Sequence[Graded]) -> dict[str, object]:
    return {"bands": [b.to_json() for b in calibration(cases)],
            "at_least_0_8": at_least(cases).to_json(),
            "threshold_for_95": threshold_for(cases)}
