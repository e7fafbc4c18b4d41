"""Golden sets for `ddq eval questionnaire`: both Northwind vocabularies, clear errors, and
how expected evidence is recognised among citations."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ddq.domain import AnswerStatus, Citation
from ddq.errors import DDQError, ErrorCode
from ddq.eval.questionnaire import Case, citation_hit, load_cases, outcome_of
from ddq.store.questionnaires import DraftRecord

pytestmark = pytest.mark.unit


def golden(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "golden.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def draft(status: AnswerStatus, stance: str | None, citations: list[Citation]) -> DraftRecord:
    return DraftRecord(1, 1, 1, status, "text", stance, 0.9, "why", citations, {}, "x",
                       datetime(2026, 1, 1, tzinfo=UTC))


def test_both_vocabularies_are_read(tmp_path: Path) -> None:
    cases = load_cases(golden(tmp_path, """
cases:
  - {id: A, question: "Encrypt?", expected_outcome: supported_yes, expected_evidence: [CC6.7]}
  - {id: B, question: "CMEK?", expected_outcome: supported_no, trap: T1}
  - {id: C, question: "BAA?", expected_outcome: unknown}
  - {id: D, question: "Pentest?", expected_outcome: has_exception, known_gap: true}
  - {id: E, question: "  Many   spaces? ", expected_outcome: qualified}
"""))
    assert [c.expected for c in cases] == ["attested", "negative", "needs_input", "qualified",
                                          "qualified"]
    assert cases[0].evidence == ("CC6.7",) and cases[1].trap == "T1" and cases[3].known_gap
    assert cases[4].question == "Many spaces?"


@pytest.mark.parametrize(("body", "message"), [
    ("cases: [", "not valid YAML"),
    ("meta: {}", "non-empty 'cases'"),
    ("cases:\n  - {id: A, expected_outcome: attested}", "has no question"),
    ("cases:\n  - {id: A, question: 'Q?', expected_outcome: maybe}", "expected_outcome 'maybe'"),
    ("cases:\n  - {id: A, question: 'Q?', expected_outcome: attested}\n"
     "  - {id: A, question: 'R?', expected_outcome: attested}", "appears twice"),
])
def test_bad_golden_sets_are_clear_errors(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(DDQError) as caught:
        load_cases(golden(tmp_path, body))
    assert caught.value.code is ErrorCode.INVALID_INPUT
    assert message in caught.value.detail


def test_outcomes_from_drafts() -> None:
    assert outcome_of(draft(AnswerStatus.NEEDS_INPUT, None, [])) == "needs_input"
    assert outcome_of(draft(AnswerStatus.ANSWERED, "no", [])) == "negative"
    assert outcome_of(draft(AnswerStatus.LIBRARY, "yes", [])) == "attested"
    assert outcome_of(draft(AnswerStatus.ANSWERED, None, [])) == "qualified"


def test_expected_evidence_is_matched_in_paths_locations_and_chunk_text() -> None:
    case = Case("X", "q", "attested", ("CC6.7", "Security_Whitepaper", "SECQ ENC-01"))
    whitepaper = Citation(1, "/data/evidence/Security_Whitepaper.md", "Encryption", "AES")
    assert citation_hit(case, draft(AnswerStatus.ANSWERED, "yes", [whitepaper]), {})
    catalog = Citation(2, "/data/control_catalog.csv", "row 9", "quote")
    answered = draft(AnswerStatus.ANSWERED, "yes", [catalog])
    assert citation_hit(case, answered, {2: "control_code: CC6.7\ntitle: Encryption"})
    # "CC6.7" must not match "CC6.71", nor "ENC-01" match "ENC-011".
    assert not citation_hit(case, answered, {2: "control_code: CC6.71; ENC-011"})
    assert citation_hit(case, draft(AnswerStatus.NEEDS_INPUT, None, []), {}) is None
    assert citation_hit(Case("Y", "q", "negative"), answered, {}) is None


@pytest.mark.unit
def test_an_answered_form_with_choice_columns_is_a_golden_set(tmp_path: Path) -> None:
    """Marks under "Comply / Do not comply" grade like Yes / No; N/A and unmarked rows are
    not graded."""
    path = tmp_path / "answered.csv"
    path.write_text("Requirement,Comply,Do not comply,N/A\n"
                    "Is MFA enforced?,x,,\n"
                    "Do you support CMEK?,,x,\n"
                    "Do you process PHI?,,,x\n"
                    "Is SSO available?,,,\n", encoding="utf-8")
    assert [(c.question, c.expected) for c in load_cases(path)] == [
        ("Is MFA enforced?", "attested"), ("Do you support CMEK?", "negative")]
