"""An answered questionnaire's rows as library entries: the verdict of the choice place
first, then the notes; unanswered questions skipped and counted; citations to sheet and cell."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddq.errors import DDQError, ErrorCode
from ddq.forms import (
    ExtractedQuestion,
    Extraction,
    FileFormat,
    Target,
    TargetRole,
)
from ddq.ingest.questionnaire_library import (
    answered_rows,
    compose_answer,
    library_document,
    verdict_label,
)

pytestmark = pytest.mark.unit

YES_NO = ("Yes", "No", "N/A")


def answer(value: str | None, ref: str = "Vendor Response!C12",
           allowed: tuple[str, ...] = YES_NO) -> Target:
    return Target(TargetRole.ANSWER, ref, allowed, value)


def notes(value: str | None, ref: str = "Vendor Response!D12") -> Target:
    return Target(TargetRole.NOTES, ref, (), value)


def question(key: str, text: str, a: Target | None, n: Target | None = None,
             section: tuple[str, ...] = ("Data",), row: int = 12) -> ExtractedQuestion:
    return ExtractedQuestion(key, text, key, section, f"Vendor Response!B{row}", a, n,
                             sheet="Vendor Response", cell=f"B{row}", row=row)


@pytest.mark.parametrize(("value", "said"), [
    ("Yes", "Yes"), ("no", "No"), ("Compliant", "Yes"), ("3 - Fully implemented", "Yes"),
    ("Do not comply", "No"), ("N/A", "N/A"), ("Partially implemented", "Partially implemented"),
])
def test_a_choice_value_is_read_by_what_it_says(value: str, said: str) -> None:
    assert verdict_label(value) == said


def test_the_verdict_leads_and_the_notes_follow() -> None:
    assert compose_answer(answer("Yes"), notes("AES-256 at rest, keys in a KMS.")) == (
        "Yes. AES-256 at rest, keys in a KMS.")
    assert compose_answer(answer("Fully implemented", allowed=("Fully implemented",
                                                               "Not implemented")),
                          notes("Reviewed yearly.")) == "Yes. Reviewed yearly."
    # A verdict alone is still an answer; notes alone (no choice made) are the answer.
    assert compose_answer(answer("No"), notes(None)) == "No."
    assert compose_answer(answer(None), notes("Only for the EU region.")) == (
        "Only for the EU region.")
    assert compose_answer(answer(None), notes(None)) == ""


def test_a_free_text_answer_keeps_its_words_and_adds_the_details() -> None:
    text = answer("Annually, by the security committee.", ref="Q!C3", allowed=())
    assert compose_answer(text, notes("Minutes are kept.", ref="Q!D3")) == (
        "Annually, by the security committee.\nMinutes are kept.")
    # A short free-text cell that says yes is a verdict even without a dropdown.
    assert compose_answer(answer("Yes", allowed=()), notes("Okta SSO.")) == "Yes. Okta SSO."


def test_unanswered_questions_are_counted_by_sheet_never_stored() -> None:
    extraction = Extraction("x.xlsx", FileFormat.XLSX, [
        question("DATA-01", "Is data encrypted at rest?", answer("Yes"), notes("AES-256.")),
        question("DATA-02", "Is data encrypted in transit?", answer(None, "Vendor Response!C13"),
                 notes(None, "Vendor Response!D13"), row=13),
        question("DATA-03", "Do you support BYOK?", answer("No", "Vendor Response!C14"),
                 row=14),
    ])
    rows, unanswered = answered_rows(extraction)
    assert [(r.qid, r.answer, r.sheet, r.cell, r.row, r.section) for r in rows] == [
        ("DATA-01", "Yes. AES-256.", "Vendor Response", "B12", 12, ("Data",)),
        ("DATA-03", "No.", "Vendor Response", "B14", 14, ("Data",)),
    ]
    assert unanswered == {"Vendor Response": 1}
    document = library_document(Path("x.xlsx"), extraction)
    assert [b.library_answer for b in document.blocks] == ["Yes. AES-256.", "No."]
    assert document.blocks[0].location.describe() == (
        "sheet 'Vendor Response', cell B12, question DATA-01, Data")
    assert document.notes == ["2 answered questions as library entries (Vendor Response 2)",
                              "1 question without an answer skipped"]


def test_a_questionnaire_with_no_answer_stores_nothing_and_says_so() -> None:
    extraction = Extraction("blank.xlsx", FileFormat.XLSX, [
        question("DATA-01", "Is data encrypted at rest?", answer(None), notes(None))])
    with pytest.raises(DDQError) as caught:
        library_document(Path("blank.xlsx"), extraction)
    assert caught.value.code is ErrorCode.EMPTY_FILE
    assert "1 question and none answered" in caught.value.detail
