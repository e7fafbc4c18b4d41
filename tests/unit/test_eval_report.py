"""The per-question-type table and the calibration (reliability) table of
`ddq eval questionnaire`, computed on a small hand-made set of graded drafts, no model."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ddq.domain import AnswerStatus
from ddq.errors import DDQError
from ddq.eval import report
from ddq.eval.questionnaire import (
    Case,
    CaseResult,
    QuestionnaireEval,
    answer_holds,
    combined_json,
    format_combined,
    format_markdown,
    load_cases,
    outcome_of,
    type_of,
)
from ddq.store.questionnaires import DraftRecord

pytestmark = pytest.mark.unit


def graded(case_id: str, kind: str, expected: str, *, status: AnswerStatus, stance: str | None,
           confidence: float, text: str = "text", answer: tuple[str, ...] = ()) -> CaseResult:
    case = Case(case_id, f"question {case_id}", expected, type=kind, answer=answer)
    draft = DraftRecord(1, 1, 1, status, text, stance, confidence, "why", [], {}, "x",
                        datetime(2026, 1, 1, tzinfo=UTC))
    return CaseResult(case, draft, outcome_of(draft), None, type_of(case))


ANSWERED, NEEDS = AnswerStatus.ANSWERED, AnswerStatus.NEEDS_INPUT


@pytest.fixture
def results() -> list[CaseResult]:
    return [
        # verdict: a right Yes, a false Yes, a right abstention
        graded("V1", "verdict", "attested", status=ANSWERED, stance="yes", confidence=0.95),
        graded("V2", "verdict", "negative", status=ANSWERED, stance="yes", confidence=0.85),
        graded("V3", "verdict", "needs_input", status=NEEDS, stance=None, confidence=0.1),
        # frequency: the right value, the wrong value (at the band edge 0.8), an abstention
        graded("F1", "frequency", "qualified", status=ANSWERED, stance=None, confidence=0.72,
               text="Reviewed every quarter.", answer=("quarter",)),
        graded("F2", "frequency", "qualified", status=ANSWERED, stance=None, confidence=0.8,
               text="Reviewed every year.", answer=("quarter",)),
        graded("F3", "frequency", "qualified", status=NEEDS, stance=None, confidence=0.2,
               answer=("quarter",)),
        # duration: an answer where a person must decide, and an alternative that matches
        graded("D1", "duration", "needs_input", status=ANSWERED, stance=None, confidence=0.55),
        graded("D2", "duration", "qualified", status=AnswerStatus.LIBRARY, stance=None,
               confidence=0.9, text="An RTO of Four\n hours.", answer=("4 hours|four hours",)),
    ]


def test_correct_needs_the_grouped_outcome_and_the_expected_answer(
        results: list[CaseResult]) -> None:
    by_id = {r.case.id: r for r in results}
    assert [i for i, r in by_id.items() if r.correct] == ["V1", "F1", "D2"]
    assert [i for i, r in by_id.items() if not r.answered] == ["V3", "F3"]
    assert by_id["F2"].grouped and not by_id["F2"].answer_matched
    assert not by_id["D1"].answerable and not by_id["D1"].correct


def test_by_type_counts(results: list[CaseResult]) -> None:
    rows = {r.type: r for r in report.by_type(results)}
    assert list(rows) == ["verdict", "frequency", "duration", "all"]
    as_tuple = {t: (r.cases, r.answerable, r.answered, r.correct, r.wrong, r.abstained,
                    r.answered_answerable) for t, r in rows.items()}
    assert as_tuple == {"verdict": (3, 2, 2, 1, 1, 1, 2), "frequency": (3, 3, 2, 1, 1, 1, 2),
                        "duration": (2, 1, 2, 1, 1, 0, 1), "all": (8, 6, 6, 3, 3, 2, 5)}
    assert rows["frequency"].answered_of_answerable == pytest.approx(2 / 3)
    assert rows["all"].answered_of_answerable == pytest.approx(5 / 6)
    assert rows["all"].wrong_of_answered == pytest.approx(0.5)
    table = report.format_by_type(list(rows.values()))
    assert "| verdict | 3 | 2 | 2 | 1 | 1 | 1 | 100% | 50% |" in table
    assert "| frequency | 3 | 3 | 2 | 1 | 1 | 1 | 67% | 50% |" in table


def test_calibration_bands_count_answers_only(results: list[CaseResult]) -> None:
    bands = {b.label: (b.answers, b.correct) for b in report.calibration(results)}
    assert bands == {"[0.0, 0.3)": (0, 0), "[0.3, 0.5)": (0, 0), "[0.5, 0.6)": (1, 0),
                     "[0.6, 0.7)": (0, 0), "[0.7, 0.8)": (1, 1), "[0.8, 0.9)": (2, 0),
                     "[0.9, 1.0]": (2, 2)}
    high = report.at_least(results)
    assert (high.answers, high.correct, high.rate) == (4, 2, 0.5)
    # 0.55: 3/6, 0.72: 3/5, 0.8: 2/4, 0.85: 2/3, 0.9: 2/2 - the first at 95% or more.
    assert report.threshold_for(results) == 0.9
    assert report.threshold_for(results[1:2]) is None  # one wrong answer: no threshold
    text = report.format_calibration(results)
    # D2 (0.9) expected a qualified answer and got one; V1 (0.95) a Yes and got it: both
    # exact. F1 (0.72) is exact too; a qualified answer where a Yes was expected would not be.
    assert "| [0.9, 1.0] | 2 | 2 | 100% | 100% |" in text
    assert "| [0.7, 0.8) | 1 | 1 | 100% | 100% |" in text
    assert "| **≥ 0.8** | 4 | 2 | **50%** | 50% |" in text
    assert "are ≥ 95% correct: 0.90" in text


def test_exact_needs_the_verdict_itself() -> None:
    yes_as_text = graded("Y", "verdict", "attested", status=ANSWERED, stance=None,
                         confidence=0.85)
    assert yes_as_text.correct and not yes_as_text.exact_correct
    band = report.at_least([yes_as_text])
    assert (band.answers, band.correct, band.exact, band.exact_rate) == (1, 1, 0, 0.0)


def test_a_confidence_of_one_is_in_the_last_band() -> None:
    top = graded("T", "named", "qualified", status=ANSWERED, stance=None, confidence=1.0)
    assert [b.answers for b in report.calibration([top])] == [0, 0, 0, 0, 0, 0, 1]


def test_the_markdown_and_json_reports(results: list[CaseResult]) -> None:
    run = QuestionnaireEval("golden.yaml", 7, results)
    text = format_markdown(run)
    assert ("answered 83% of the answerable questions (5 of 6); wrongly answered 50% of the "
            "answers (3 of 6)") in text
    assert "| F2 | frequency |" in text and "| qualified ✗ |" in text
    data = run.to_json()
    assert data["by_type"][-1]["wrong"] == 3
    assert data["calibration"]["at_least_0_8"]["answers"] == 4
    assert [c["correct"] for c in data["by_case"]].count(True) == 3
    other = QuestionnaireEval("other.yaml", 8, results[:2])
    together = format_combined([run, other])
    assert "All 2 golden sets together (`golden.yaml`, `other.yaml`; 10 cases)" in together
    assert combined_json([run, other])["by_type"][0] == {
        "type": "verdict", "cases": 5, "answerable": 4, "answered": 4, "correct": 2,
        "wrong": 2, "abstained": 1, "answered_answerable": 4, "answered_of_answerable": 1.0,
        "wrong_of_answered": 0.5}


def test_answer_holds_every_entry() -> None:
    assert answer_holds("TLS 1.2 or newer; TLS 1.3 preferred", ("tls 1.2", "1.3"))
    assert not answer_holds("TLS 1.2 or newer", ("tls 1.2", "1.3"))
    assert answer_holds("Hosted in Frankfurt", ("eu-central-1|frankfurt",))
    assert answer_holds("anything", ())


def test_type_and_expected_answer_are_read(tmp_path: Path) -> None:
    path = tmp_path / "golden.yaml"
    path.write_text("""
cases:
  - {id: A, question: "How often are backups tested?", expected_outcome: qualified,
     type: frequency, expected_answer: ["quarter", "a|b"]}
  - {id: B, question: "How often are backups tested?", expected_outcome: qualified}
  - {id: C, question: "RTO?", expected_outcome: qualified, expected_answer: 4 hours}
""", encoding="utf-8")
    a, b, c = load_cases(path)
    assert (a.type, a.answer) == ("frequency", ("quarter", "a|b"))
    assert (b.type, b.answer) == (None, ())
    assert c.answer == ("4 hours",)
    # Without a declared type the classifier decides.
    assert type_of(b) == "frequency"
    path.write_text('cases: [{id: A, question: "Q?", expected_outcome: qualified, '
                    'type: colour}]', encoding="utf-8")
    with pytest.raises(DDQError, match="type 'colour'"):
        load_cases(path)
    path.write_text('cases: [{id: A, question: "Q?", expected_outcome: qualified, '
                    'expected_answer: [""]}]', encoding="utf-8")
    with pytest.raises(DDQError, match="expected_answer"):
        load_cases(path)
