"""Telling the questionnaire sheet from the sheets that copy it (``formats/xlsx/sheets``)."""

from __future__ import annotations

import pytest

from ddq.questionnaire.formats.xlsx.package import _scan_sheet_xml
from ddq.questionnaire.formats.xlsx.sheets import SheetEvidence, find_reports, referenced_sheets

pytestmark = pytest.mark.unit


def test_the_sheets_a_formula_refers_to() -> None:
    assert referenced_sheets("='Vendor Response'!B12") == {"Vendor Response"}
    assert referenced_sheets("=Questions!B5&\" \"&'It''s here'!$A$1") == {"Questions",
                                                                           "It's here"}
    assert referenced_sheets('=IF(C4="Yes",1,0)') == set()
    assert referenced_sheets('="See Sheet!A1 for more"') == set()  # inside a string
    assert referenced_sheets("=COUNTA('A. Risk'!B5:B7)") == {"A. Risk"}


def _sheet(name: str, rows: range, formulas: dict[str, str], answers: str | None = "C"
           ) -> SheetEvidence:
    return SheetEvidence(name, [f"B{r}" for r in rows],
                         [f"{answers}{r}" for r in rows] if answers else [], formulas)


def test_copies_of_the_questionnaire_and_copies_of_copies_are_reports() -> None:
    rows = range(5, 15)
    vendor = _sheet("Vendor Response", rows, {f"B{r}": f"=Questions!B{r}" for r in rows})
    report = _sheet("Analyst Report", rows, {
        **{f"B{r}": f"='Vendor Response'!B{r}" for r in rows},
        **{f"C{r}": f"='Vendor Response'!C{r}" for r in rows}})
    summary = _sheet("Summary", rows, {f"B{r}": f"='Analyst Report'!B{r}" for r in rows},
                     answers=None)
    assert find_reports([summary, report, vendor]) == {
        "Analyst Report": "its questions are formulas copying 'Vendor Response'",
        "Summary": "its questions are formulas copying 'Analyst Report'",
    }


def test_a_visible_question_bank_is_not_read_twice() -> None:
    rows = range(2, 12)
    bank = _sheet("Questions", rows, {}, answers=None)
    vendor = _sheet("Vendor Response", rows, {f"B{r}": f"=Questions!B{r}" for r in rows})
    assert find_reports([bank, vendor]) == {
        "Questions": "its questions are the source that 'Vendor Response' copies"}


def test_a_few_formulas_do_not_make_a_report() -> None:
    rows = range(2, 12)
    vendor = _sheet("Vendor", rows, {"B2": "='Other'!B2", "C3": "=Lists!A1", "C4": "=A4"})
    other = _sheet("Other", rows, {})
    assert find_reports([vendor, other]) == {}
    computed = _sheet("Scores", rows, {f"C{r}": f"=IF(B{r}=\"\",0,1)" for r in rows})
    assert find_reports([computed]) == {"Scores": "its answer places are formulas"}


def test_shared_formulas_are_read_with_their_first_cells_text() -> None:
    data = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<sheetData><row r=\"2\"><c r=\"B2\" t=\"str\"><f t=\"shared\" ref=\"B2:B4\" si=\"0\">"
        b"'Vendor Response'!B12</f><v>Q1</v></c></row>"
        b'<row r="3"><c r="B3" t="str"><f t="shared" si="0"/><v>Q2</v></c></row>'
        b'<row r="4"><c r="B4"><v>7</v></c></row></sheetData></worksheet>'
    )
    scanned = _scan_sheet_xml(data)
    assert scanned.formula_cells == {"B2", "B3"}
    assert scanned.formulas == {"B2": "'Vendor Response'!B12", "B3": "'Vendor Response'!B12"}
