"""Fitting drafted answers to the form: dropdown values, notes, needs input, neutralising."""

from __future__ import annotations

import pytest

from ddq.domain import Answer, AnswerStatus, Citation
from ddq.forms import YES_NO_VALUES, Target, TargetKind, TargetRole, neutralise
from ddq.jobs.fit import choose_allowed, concise, fit_answer

pytestmark = pytest.mark.unit

DROPDOWN = Target(TargetRole.ANSWER, "S!C5", ("Yes", "No", "N/A"))
FREE = Target(TargetRole.ANSWER, "S!C5")
NOTES = Target(TargetRole.NOTES, "S!D5")
CITE = [Citation(1, "policy.md", "§3", "Data is encrypted.")]


def answer(text: str, stance: str | None = None,
           status: AnswerStatus = AnswerStatus.ANSWERED) -> Answer:
    return Answer("Do you encrypt data?", status, text, 0.9, "why", CITE, stance)


@pytest.mark.parametrize(("stance", "allowed", "expected"), [
    ("yes", ("Yes", "No", "N/A"), "Yes"),
    ("no", ("Yes", "No", "N/A"), "No"),
    (None, ("Yes", "No", "N/A"), None),
    ("yes", ("Compliant", "Non-compliant", "Partially compliant"), "Compliant"),
    ("no", ("Compliant", "Non-compliant", "Partially compliant"), "Non-compliant"),
    ("yes", ("Y", "N"), "Y"),
    ("no", ("Yes - fully", "No (planned)"), "No (planned)"),
    ("yes", ("High", "Medium", "Low"), None),
    # Maturity-style lists: the unhedged value, never a partial one or N/A.
    ("yes", ("Fully Implemented", "Partially Implemented", "Not Implemented", "N/A"),
     "Fully Implemented"),
    ("no", ("Fully Implemented", "Partially Implemented", "Not Implemented", "N/A"),
     "Not Implemented"),
    ("yes", ("Yes - partially", "Yes - fully", "No"), "Yes - fully"),
    ("no", ("In place", "Planned", "Not yet implemented"), "Not yet implemented"),
    ("no", ("Partially Implemented", "Not applicable"), None),
    ("yes", ("Partially compliant", "Not compliant"), None),
    ("yes", ("1 - Not implemented", "2 - Partially implemented", "3 - Fully implemented"),
     "3 - Fully implemented"),
    ("no", ("1 - Not implemented", "2 - Partially implemented", "3 - Fully implemented"),
     "1 - Not implemented"),
])
def test_choose_allowed(stance: str | None, allowed: tuple[str, ...], expected: str | None
                        ) -> None:
    assert choose_allowed(stance, allowed) == expected


def test_yes_no_dropdown_gets_the_value_and_the_notes_get_the_text() -> None:
    fill = fit_answer(answer("Yes. All data is encrypted with AES-256.", "yes"), DROPDOWN, NOTES)
    assert fill == {"S!C5": "Yes", "S!D5": "All data is encrypted with AES-256."}


def test_an_honest_no_is_written_as_no() -> None:
    fill = fit_answer(answer("No. CMEK is not supported; planned for H2 2026.", "no"),
                      DROPDOWN, NOTES)
    assert fill == {"S!C5": "No", "S!D5": "CMEK is not supported; planned for H2 2026."}


def test_no_verdict_leaves_the_dropdown_for_a_person() -> None:
    fill = fit_answer(answer("Keys are rotated yearly."), DROPDOWN, NOTES)
    assert fill == {"S!D5": "Keys are rotated yearly."}


def test_needs_input_never_fills_a_guess() -> None:
    needs = answer("Needs input", None, AnswerStatus.NEEDS_INPUT)
    assert fit_answer(needs, DROPDOWN, NOTES) == {"S!D5": "Needs input"}
    assert fit_answer(needs, FREE, None) == {"S!C5": "Needs input"}
    assert fit_answer(needs, DROPDOWN, None) == {}


def test_free_text_gets_the_whole_answer_with_its_verdict() -> None:
    fill = fit_answer(answer("Yes. All data is encrypted.", "yes"), FREE, None)
    assert fill == {"S!C5": "Yes. All data is encrypted."}


def test_a_yes_no_column_without_dropdown_takes_yes_no() -> None:
    fill = fit_answer(answer("No. Not supported.", "no"), FREE, NOTES, yes_no_column=True)
    assert fill == {"S!C5": "No", "S!D5": "Not supported."}


def test_notes_only_layout_gets_the_text() -> None:
    assert fit_answer(answer("Yes. Encrypted.", "yes"), None, NOTES) == {
        "S!D5": "Yes. Encrypted."}
    assert fit_answer(answer("x"), None, None) == {}


def test_concise_cuts_at_a_sentence_end() -> None:
    text = "First sentence here. " * 100
    short = concise(text, limit=200)
    assert len(short) <= 202 and short.endswith("here. …")
    assert concise("Short.") == "Short."


@pytest.mark.parametrize("dangerous", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx"])
def test_formula_text_is_neutralised(dangerous: str) -> None:
    assert neutralise(dangerous) == "'" + dangerous
    assert neutralise("Yes, =1 inside is fine") == "Yes, =1 inside is fine"


def test_an_answer_column_beside_notes_takes_the_verdict_of_a_yes_no_question() -> None:
    from ddq.jobs.job import fill_for
    from ddq.store.questionnaires import QuestionRecord

    def record(text: str, answer_place: Target = FREE) -> QuestionRecord:
        return QuestionRecord(1, 0, "Q1", "Q1", text, (), "S!B5", (answer_place, NOTES))

    yes = answer("Yes. All data is encrypted.", "yes")
    assert fill_for(record("Is data encrypted?"), yes) == {
        "S!C5": "Yes", "S!D5": "All data is encrypted."}
    rto = answer("The RTO is 8 hours.")
    assert fill_for(record("What is your RTO?"), rto) == {"S!C5": "The RTO is 8 hours."}
    # An answer column whose answers are all Yes/No: its reader gives every place there the
    # Yes/No/N/A values, so every question takes a verdict.
    yes_no = Target(TargetRole.ANSWER, "S!C5", YES_NO_VALUES, kind=TargetKind.DROPDOWN)
    assert fill_for(record("Describe key rotation.", yes_no), answer("No. Never.", "no")) == {
        "S!C5": "No", "S!D5": "Never."}


@pytest.mark.parametrize("limit", [5, 12, 30, 47, 80, 200])
def test_a_concise_answer_never_passes_its_limit(limit: int) -> None:
    text = ("Customer data is encrypted at rest with AES-256. Keys are held in Cloud KMS and "
            "rotated every year. Backups are encrypted the same way.")
    cut = concise(text, limit)
    assert len(cut) <= limit
    assert cut == text or cut.endswith(" …")


def test_the_forms_character_limit_bounds_the_text() -> None:
    notes = Target(TargetRole.NOTES, "S!D5", max_chars=60)
    long = "Yes. " + "All customer data is encrypted at rest with AES-256. " * 5
    fill = fit_answer(answer(long, "yes"), DROPDOWN, notes)
    assert fill["S!C5"] == "Yes"
    assert fill["S!D5"] == "All customer data is encrypted at rest with AES-256. …"
    assert len(fill["S!D5"]) <= 60


@pytest.mark.parametrize(("header", "limit"), [
    ("Comments (max 500 characters)", 500),
    ("Response - 250 char limit", 250),
    ("Additional Information (Limit 1,000 characters)", 1000),
    ("Vendor Response (up to 2000 chars)", 2000),
    ("Answer: maximum of 100 characters", 100),
    ("Notes", None),
    ("Characters used", None),
])
def test_a_limit_stated_in_a_header(header: str, limit: int | None) -> None:
    from ddq.questionnaire.detect.questions import stated_limit

    assert stated_limit(header) == limit


def test_a_target_keeps_its_limit_through_json() -> None:
    notes = Target(TargetRole.NOTES, "S!D5", max_chars=60)
    assert Target.from_json(notes.to_json()) == notes
    assert Target.from_json({"role": "notes", "ref": "S!D5"}).max_chars is None  # older rows
