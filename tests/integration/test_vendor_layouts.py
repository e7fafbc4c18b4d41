"""The layouts vendors' questionnaires really use, reproduced by ``support.vendor_forms``:
extraction finds exactly the vendor's questions (the analyst and summary sheets that copy
them with formulas are skipped, with their reason), an answered form shows its answers as
the places' current values, and an export still changes nothing but the answer cells."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from test_xlsx_roundtrip import (
    answers_for,
    compare_packages,
    compare_sheet_xml,
    compare_workbooks,
    sheet_part,
)

from ddq.errors import DDQError, ErrorCode
from ddq.forms import Extraction, ExtractOptions, neutralise
from ddq.questionnaire.files import extract, write
from support.vendor_forms import (
    CAIQ_TO_HECVAT,
    HIDDEN,
    NO_QUESTIONS,
    REPORT,
    ExpectedForm,
    build_caiq,
    build_hecvat3,
    build_hecvat4,
    build_sig,
    build_word_tables,
    hecvat_overlap,
)
from support.xlsx_package import save_workbook

pytestmark = [pytest.mark.integration,
              pytest.mark.filterwarnings("ignore:Data Validation extension is not supported")]

Builder = Callable[..., ExpectedForm]
WORKBOOKS: dict[str, Builder] = {
    "hecvat3-full": lambda path, **kw: build_hecvat3(path, "full", **kw),
    "hecvat3-lite": lambda path, **kw: build_hecvat3(path, "lite", **kw),
    "hecvat4": build_hecvat4,
    "caiq": build_caiq,
    "sig": build_sig,
}


def _sheet_of(location: str) -> str:
    return location.rpartition("!")[0]


def _found_ids(extraction: Extraction) -> dict[str, list[str | None]]:
    found: dict[str, list[str | None]] = {}
    for q in extraction.questions:
        found.setdefault(_sheet_of(q.location), []).append(q.qid)
    return found


def _skip_kind(reason: str) -> str:
    if reason.startswith("its questions are formulas copying"):
        return REPORT
    if reason.startswith("hidden"):
        return HIDDEN
    if reason.startswith(("no questions", "no header row")):
        return NO_QUESTIONS
    return reason


def _check_places(extraction: Extraction, expected: ExpectedForm) -> None:
    for q in extraction.questions:
        assert q.qid is not None
        held = expected.answers[q.qid]
        assert q.text == expected.texts[q.qid], q.qid
        assert q.answer is not None and q.notes is not None, q.qid
        assert (q.answer.current, q.notes.current) == (held.answer, held.notes), q.qid
        assert q.section[-1:] == (expected.sections[q.qid],), q.qid


@pytest.mark.parametrize("answered", [False, True], ids=["blank", "answered"])
@pytest.mark.parametrize("form", list(WORKBOOKS))
def test_extraction_finds_exactly_the_vendor_questions(tmp_path: Path, form: str,
                                                       answered: bool) -> None:
    expected = WORKBOOKS[form](tmp_path / f"{form}.xlsx", answered=answered)
    extraction = extract(expected.path)
    assert _found_ids(extraction) == expected.sheets
    assert [q.key for q in extraction.questions] == expected.ids  # ids unique in the file
    read = {s.name: s.questions for s in extraction.sheets if s.skipped is None}
    assert read == {name: len(ids) for name, ids in expected.sheets.items()}
    skipped = {s.name: _skip_kind(s.skipped) for s in extraction.sheets if s.skipped}
    assert skipped == expected.skipped
    for report, sources in expected.copies.items():
        reason = next(s.skipped for s in extraction.sheets if s.name == report)
        assert reason == "its questions are formulas copying " + ", ".join(
            f"'{name}'" for name in sorted(sources))
    assert extraction.layout["skipped"].keys() == expected.skipped.keys()
    assert not [w for w in extraction.warnings if "holds a formula" in w]
    _check_places(extraction, expected)
    if answered:
        assert expected.answered and len(expected.answered) < len(expected.answers)
    else:
        assert not expected.answered


def test_hecvat3_reads_saved_question_values_and_the_x14_dropdown(tmp_path: Path) -> None:
    expected = build_hecvat3(tmp_path / "full.xlsx", "full", answered=True)
    extraction = extract(expected.path)
    by_id = {q.qid: q for q in extraction.questions}
    assert len(by_id) == 42
    data = by_id["DATA-01"]
    assert data.text == "Is customer data encrypted at rest?"
    assert data.location == "Vendor Response!B42"
    assert data.answer is not None and data.answer.ref == "Vendor Response!C42"
    assert data.answer.allowed == ("Yes", "No", "N/A")
    assert data.notes is not None and data.notes.ref == "Vendor Response!D42"
    # General information is answered in words: no dropdown.
    vendor = by_id["GNRL-01"]
    assert vendor.answer is not None and vendor.answer.allowed == ()
    assert vendor.answer.current == "Harborline Analytics, Inc."
    assert vendor.section == ("General Information",)
    assert [q.qid for q in extraction.questions][:7] == [
        "GNRL-01", "GNRL-02", "GNRL-03", "GNRL-04", "GNRL-05", "GNRL-06", "COMP-01"]
    unanswered = [q.qid for q in extraction.questions if q.answer and q.answer.current is None]
    assert unanswered == ["COMP-05", "DOCU-05", "HFIH-03"]


def test_caiq_reads_its_answer_its_description_and_the_ccm_domain(tmp_path: Path) -> None:
    expected = build_caiq(tmp_path / "caiq.xlsx", answered=True)
    extraction = extract(expected.path)
    assert extraction.layout["sheets"]["CAIQv4.0.3"]["header_row"] == 3
    first = extraction.questions[0]
    assert (first.qid, first.section) == ("A&A-02.1", ("Audit & Assurance",))
    assert first.answer is not None and first.answer.ref == "CAIQv4.0.3!C4"
    assert first.answer.allowed == ("Yes", "No", "NA")
    assert first.notes is not None and first.notes.ref == "CAIQv4.0.3!E4"  # the description
    assert first.notes.current == "A SOC 2 Type II report is issued each year."


def test_the_hecvat_full_and_lite_overlap_as_the_round_trip_needs(tmp_path: Path) -> None:
    full = build_hecvat3(tmp_path / "full.xlsx", "full", answered=True)
    lite = build_hecvat3(tmp_path / "lite.xlsx", "lite")
    overlap = hecvat_overlap()
    assert len(overlap) == 20
    assert {o.qid for o in overlap if o.reworded} == {
        "COMP-03", "DOCU-03", "APPL-02", "AAAI-03", "DATA-04", "HFIH-02", "PPPR-03"}
    assert {o.qid for o in overlap if o.changed} == {"DATA-03", "VULN-02"}
    for o in overlap:
        assert full.texts[o.qid] == o.full_text and lite.texts[o.qid] == o.lite_text
        assert full.answers[o.qid].answer == o.full_answer is not None
    only_lite = set(lite.ids) - set(full.ids)
    assert only_lite == {"PRIV-01", "AIQU-01"}


def test_the_caiq_overlaps_the_hecvat_lite_with_the_same_answers(tmp_path: Path) -> None:
    caiq = build_caiq(tmp_path / "caiq.xlsx", answered=True)
    lite = build_hecvat3(tmp_path / "lite.xlsx", "lite", answered=True)
    assert len(CAIQ_TO_HECVAT) == 13 and set(CAIQ_TO_HECVAT) <= set(caiq.ids)
    assert set(CAIQ_TO_HECVAT.values()) <= set(lite.ids)
    for caiq_id, hecvat_id in CAIQ_TO_HECVAT.items():
        assert caiq.answers[caiq_id].answer == lite.answers[hecvat_id].answer, caiq_id
    assert {a.answer for a in caiq.answered.values()} == {"Yes", "No", "NA"}


def test_a_hidden_sheet_is_read_when_named(tmp_path: Path) -> None:
    expected = build_hecvat3(tmp_path / "full.xlsx", "full")
    extraction = extract(expected.path, ExtractOptions(sheet="Standards Crosswalk"))
    assert len(extraction.questions) == 42
    assert [s.name for s in extraction.sheets] == ["Standards Crosswalk"]
    assert extraction.questions[0].text == "Vendor Name"


@pytest.mark.parametrize("answered", [False, True], ids=["blank", "answered"])
def test_word_answers_in_table_cells(tmp_path: Path, answered: bool) -> None:
    expected = build_word_tables(tmp_path / "form.docx", answered=answered)
    extraction = extract(expected.path)
    assert [q.qid for q in extraction.questions] == expected.sheets["document"]
    _check_places(extraction, expected)
    first = extraction.questions[0]
    assert first.answer is not None and first.answer.ref == "table:0:1:2"
    assert first.notes is not None and first.notes.ref == "table:0:1:3"


# --- the export round trip -----------------------------------------------------------------

#: The worksheet parts an export writes into: the sheets that hold the questionnaire.
EDITED_PARTS = {
    "hecvat3-full": {3}, "hecvat3-lite": {3}, "hecvat4": {1, 2, 3, 4, 5, 6}, "caiq": {2},
    "sig": {3, 4, 5},
}


@pytest.mark.parametrize("form", list(WORKBOOKS))
def test_an_answered_form_exported_again_changes_only_its_answer_cells(tmp_path: Path,
                                                                       form: str) -> None:
    source = WORKBOOKS[form](tmp_path / "answered.xlsx", answered=True).path
    extraction = extract(source)
    blank = tmp_path / "blank.xlsx"
    cleared = {t.ref: "" for q in extraction.questions for t in q.targets}
    assert write(source, blank, cleared) == len(cleared)
    assert all(t.current is None for q in extract(blank).questions for t in q.targets)
    values = answers_for(extract(blank))
    again = tmp_path / "again.xlsx"
    assert write(blank, again, values) == len(values)
    compare_workbooks(source, blank, cleared)
    compare_workbooks(blank, again, values)
    parts = {f"xl/worksheets/sheet{n}.xml" for n in EDITED_PARTS[form]}
    compare_packages(source, blank, parts)
    compare_packages(blank, again, parts)
    for number in EDITED_PARTS[form]:
        compare_sheet_xml(sheet_part(blank, number), sheet_part(again, number),
                          {ref.rpartition("!")[2] for ref in values})
    reread = extract(again)
    assert [q.key for q in reread.questions] == [q.key for q in extraction.questions]
    assert [s.skipped for s in reread.sheets] == [s.skipped for s in extraction.sheets]
    for q in reread.questions:
        assert q.answer is not None and q.answer.current == neutralise(values[q.answer.ref])


# --- bad input -----------------------------------------------------------------------------


def test_a_workbook_of_reports_only_is_an_error_naming_each_sheet(tmp_path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    report = workbook.active
    assert report is not None
    report.title = "Analyst Report"
    source = workbook.create_sheet("Vendor Response")
    source.sheet_state = "hidden"
    cached = {}
    for column, name in enumerate(("ID", "Question", "Vendor Answer"), start=1):
        report.cell(row=1, column=column, value=name)
        source.cell(row=1, column=column, value=name)
    for row, (qid, text) in enumerate((("DATA-01", "Is data encrypted at rest?"),
                                       ("DATA-02", "Is data encrypted in transit?")), start=2):
        source.cell(row=row, column=1, value=qid)
        source.cell(row=row, column=2, value=text)
        source.cell(row=row, column=3, value="Yes")
        report.cell(row=row, column=1, value=qid)
        report.cell(row=row, column=2, value=text)
        report.cell(row=row, column=3, value=f"='Vendor Response'!C{row}")
        cached[("Analyst Report", f"C{row}")] = "Yes"
    path = save_workbook(workbook, tmp_path / "report.xlsx", cached=cached)
    with pytest.raises(DDQError) as caught:
        extract(path)
    assert caught.value.code is ErrorCode.NO_QUESTIONS
    assert str(caught.value) == (
        f"{path}: no sheet holds the questionnaire itself ('Analyst Report': its answer places "
        "are formulas copying 'Vendor Response'; 'Vendor Response': hidden (name it with "
        "--sheet to read it))")
    named = extract(path, ExtractOptions(sheet="Vendor Response"))
    assert [q.qid for q in named.questions] == ["DATA-01", "DATA-02"]


QA_ROWS = (("Do you encrypt backups?", "Yes, with AES-256."),
           ("Is MFA enforced for staff?", "Yes"),
           ("Do you run annual penetration tests?", "No, every two years."),
           ("Is there a DPO?", "Yes. Appointed in 2021."))


def _answers_in_question_column(path: Path, *, with_form: bool) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Answers"
    sheet["A1"] = "Question"
    row = 2
    for question, answer in QA_ROWS:
        sheet.cell(row=row, column=1, value=question)
        sheet.cell(row=row + 1, column=1, value=answer)
        row += 2
    if with_form:
        form = workbook.create_sheet("Form")
        form.append(["Question", "Answer"])
        for question, _ in QA_ROWS:
            form.append([question, None])
    return save_workbook(workbook, path)


def test_answers_written_under_each_question_cannot_be_told_from_the_questions(
        tmp_path: Path) -> None:
    path = _answers_in_question_column(tmp_path / "qa.xlsx", with_form=False)
    with pytest.raises(DDQError) as caught:
        extract(path)
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith(
        f"{path}: no questions found (sheet 'Answers': its answers are written in the "
        "question column, under each question, so they cannot be told from the questions; "
        "skipped)")
    both = extract(_answers_in_question_column(tmp_path / "both.xlsx", with_form=True))
    assert [q.text for q in both.questions] == [q for q, _ in QA_ROWS]
    assert [(s.name, s.questions, s.skipped) for s in both.sheets] == [
        ("Answers", 0, "its answers are written in the question column, under each question, "
                       "so they cannot be told from the questions"),
        ("Form", 4, None)]


def test_a_list_of_questions_with_headings_is_still_a_list_of_questions(tmp_path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Question"])
    for heading, questions in (("Encryption", QA_ROWS[:2]), ("Testing", QA_ROWS[2:])):
        sheet.append([heading])
        for question, _ in questions:
            sheet.append([question])
    extraction = extract(save_workbook(workbook, tmp_path / "list.xlsx"))
    assert [q.section for q in extraction.questions] == [("Encryption",)] * 2 + [
        ("Testing",)] * 2
    assert all(q.answer is None for q in extraction.questions)
    assert any("no answer column found" in w for w in extraction.warnings)


def test_a_form_whose_comments_are_computed_is_still_the_questionnaire(tmp_path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Form"
    sheet.append(["ID", "Question", "Answer", "Comments"])
    cached = {}
    for row, (question, _) in enumerate(QA_ROWS, start=2):
        sheet.append([f"Q-{row}", question, "Yes" if row % 2 else None,
                      f'=IF(C{row}="","Please answer","")'])
        cached[("Form", f"D{row}")] = "" if row % 2 else "Please answer"
    sheet["C2"] = '="Yes"'  # one answer computed, too: still far from most
    cached[("Form", "C2")] = "Yes"
    extraction = extract(save_workbook(workbook, tmp_path / "form.xlsx", cached=cached))
    assert [(s.name, s.questions, s.skipped) for s in extraction.sheets] == [("Form", 4, None)]
    assert [q.answer is not None for q in extraction.questions] == [False, True, True, True]
    assert all(q.notes is None for q in extraction.questions)


# --- the reproductions are what an office application makes of them -----------------------


def _without_saved_values(source: Path, target: Path) -> Path:
    """A copy whose formula cells have no saved value, so that LibreOffice computes them."""
    import re
    import zipfile

    with zipfile.ZipFile(source) as a, zipfile.ZipFile(target, "w") as b:
        for info in a.infolist():
            data = a.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(rb"(</f>)<v>[^<]*</v>", rb"\1", data)
            b.writestr(info, data)
    return target


def _shown(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def test_libreoffice_computes_the_saved_values_the_builders_wrote(tmp_path: Path) -> None:
    """The reproductions open in LibreOffice, and every formula's saved value in them is
    what LibreOffice computes for it (so the reader is tested on values a real application
    would have saved)."""
    import subprocess

    from openpyxl import load_workbook
    from test_xlsx_roundtrip import _libreoffice

    office = _libreoffice()
    built = {form: WORKBOOKS[form](tmp_path / f"{form}.xlsx", answered=True).path
             for form in WORKBOOKS}
    stripped = [_without_saved_values(path, tmp_path / f"{form}-stripped.xlsx")
                for form, path in built.items()]
    result = subprocess.run(
        [office, f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}", "--headless",
         "--convert-to", "xlsx", "--outdir", str(tmp_path / "computed"), *map(str, stripped)],
        capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    compared = 0
    for form, path in built.items():
        formulas = load_workbook(path)
        ours = load_workbook(path, data_only=True)
        computed = load_workbook(tmp_path / "computed" / f"{form}-stripped.xlsx", data_only=True)
        for sheet in formulas.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.data_type != "f":
                        continue
                    place = (form, sheet.title, cell.coordinate)
                    assert _shown(computed[sheet.title][cell.coordinate].value) == _shown(
                        ours[sheet.title][cell.coordinate].value), place
                    compared += 1
    assert compared > 600
