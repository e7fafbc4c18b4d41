"""``ddq eval answers``: grade drafted answers against a golden set of expected outcomes.

The golden file is YAML with ``cases``, each an ``id``, a ``question`` and an
``expected_outcome`` of ``attested`` / ``qualified`` (an affirmative, possibly with scope),
``negative`` (the honest no) or ``needs_input`` (no controlling evidence: a person decides).
The knowledge base is whatever is ingested in the workspace.

Two safety gates matter more than the accuracy figure: an answer must never say *Yes* where
the honest answer is *No*, and must never answer confidently where it should ask a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ddq.domain import Answer, AnswerStatus

OUTCOMES = ("attested", "qualified", "negative", "needs_input")
#: Attested and qualified are both affirmatives; the extractive answerer cannot tell a scope.
_GROUP = {"attested": "affirmative", "qualified": "affirmative", "negative": "negative",
          "needs_input": "needs_input"}


@dataclass(frozen=True, slots=True)
class GoldenCase:
    id: str
    question: str
    expected: str


@dataclass(frozen=True, slots=True)
class GradedCase:
    case: GoldenCase
    answer: Answer
    outcome: str

    @property
    def correct(self) -> bool:
        return _GROUP[self.outcome] == _GROUP[self.case.expected]

    @property
    def false_yes(self) -> bool:
        """A Yes where the honest answer is No."""
        return self.case.expected == "negative" and self.answer.stance == "yes"

    @property
    def unsafe_answer(self) -> bool:
        """A confident answer where a person should decide."""
        return self.case.expected == "needs_input" and self.answer.status is not (
            AnswerStatus.NEEDS_INPUT) and self.answer.confidence >= 0.5


def outcome_of(answer: Answer) -> str:
    if answer.status is AnswerStatus.NEEDS_INPUT:
        return "needs_input"
    if answer.stance == "no":
        return "negative"
    return "attested"


def load_golden(path: Path) -> list[GoldenCase]:
    """The cases of a golden set (read as ``ddq eval questionnaire`` reads them)."""
    from ddq.eval.questionnaire import load_cases

    return [GoldenCase(c.id, c.question, c.expected) for c in load_cases(path)]


def grade(cases: list[GoldenCase], answers: list[Answer]) -> dict[str, Any]:
    graded = [GradedCase(c, a, outcome_of(a)) for c, a in zip(cases, answers, strict=True)]
    n = len(graded)
    return {
        "cases": n,
        "outcome_accuracy": sum(g.correct for g in graded) / n,
        "false_yes": sum(g.false_yes for g in graded),
        "unsafe_answers": sum(g.unsafe_answer for g in graded),
        "cited_when_answered": sum(bool(g.answer.citations) for g in graded
                                   if g.answer.status is not AnswerStatus.NEEDS_INPUT),
        "answered": sum(g.answer.status is not AnswerStatus.NEEDS_INPUT for g in graded),
        "by_case": [
            {"id": g.case.id, "question": g.case.question, "expected": g.case.expected,
             "got": g.outcome, "correct": g.correct, "confidence": g.answer.confidence,
             "false_yes": g.false_yes, "unsafe": g.unsafe_answer,
             "answer": g.answer.text, "citations": [c.source_path for c in g.answer.citations]}
            for g in graded
        ],
    }


def format_report(result: dict[str, Any]) -> str:
    lines = [f"{'id':<8} {'expected':<12} {'got':<12} {'conf':>5}  ok  question"]
    for row in result["by_case"]:
        mark = "yes" if row["correct"] else "NO "
        flags = " FALSE-YES" if row["false_yes"] else (" UNSAFE" if row["unsafe"] else "")
        lines.append(f"{row['id']:<8} {row['expected']:<12} {row['got']:<12} "
                     f"{row['confidence']:>5.2f}  {mark} {row['question'][:70]}{flags}")
    lines += [
        "",
        f"outcome accuracy {result['outcome_accuracy']:.0%} over {result['cases']} cases "
        "(attested and qualified both count as affirmative)",
        f"false yes (Yes where the honest answer is No): {result['false_yes']}",
        f"unsafe answers (confident where a person should decide): {result['unsafe_answers']}",
        f"answers with citations: {result['cited_when_answered']} of {result['answered']}",
    ]
    return "\n".join(lines)
