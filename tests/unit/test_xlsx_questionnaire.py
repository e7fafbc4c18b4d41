"""Reading questions out of Excel questionnaires, and writing answers into a copy."""

from __future__ import annotations

import io
import os
import struct
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ddq.errors import DDQError, ErrorCode
from ddq.forms import YES_NO_VALUES, ExtractOptions, TargetKind, TargetRole
from ddq.questionnaire.detect.headers import header_role
from ddq.questionnaire.detect.questions import looks_like_question
from ddq.questionnaire.formats.xlsx.reading import extract_xlsx
from ddq.questionnaire.formats.xlsx.writing import write_xlsx

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "questionnaires" / "harborline_vendor_security.xlsx"
SHARED = ROOT.parent / "shared" / "data"
NORTHWIND = SHARED / "northwind" / "questionnaires" / "Security_Questionnaire_Northwind_AI.xlsx"
FREE_TEXT = {"AC-03", "AC-04", "ENC-02", "IR-02", "IR-03", "IR-05", "IR-06", "PRV-01", "PRV-04"}
SAMPLE_IDS = (
    [f"GOV-0{n}" for n in range(1, 9)]
    + [f"AC-0{n}" for n in range(1, 7)]
    + [f"ENC-0{n}" for n in range(1, 6)]
    + [f"IR-0{n}" for n in range(1, 7)]
    + [f"PRV-0{n}" for n in range(1, 7)]
)

Rows = list[list[object]]


def northwind() -> Path:
    if not NORTHWIND.is_file():
        pytest.fail(f"the shared Northwind questionnaire is missing: {NORTHWIND}")
    return NORTHWIND


def workbook_file(
    path: Path, sheets: dict[str, Rows], edit: Callable[[Workbook], None] | None = None
) -> Path:
    """A workbook with one sheet per entry; ``edit`` adds merges, styles, validations."""
    workbook = Workbook()
    workbook.remove(workbook.worksheets[0])
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    if edit is not None:
        edit(workbook)
    workbook.save(path)
    return path


def sheet_of(workbook: Workbook, name: str) -> Worksheet:
    sheet = workbook[name]
    assert isinstance(sheet, Worksheet)
    return sheet


def simple_questionnaire(path: Path) -> Path:
    return workbook_file(
        path,
        {
            "Q": [
                ["ID", "Question", "Answer", "Comments"],
                ["Q-1", "Do you encrypt data at rest?", None, "See the encryption standard."],
                ["Q-2", "Do you run background checks?", "Yes", "All staff."],
            ]
        },
    )


# --- header vocabulary and content heuristics ----------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize(
    ("header", "role"),
    [
        ("Question", "question"),
        ("Control Question", "question"),
        ("Requirement", "question"),
        ("Question ID", "id"),
        ("Ref", "id"),
        ("#", "id"),
        ("No.", "id"),
        ("Control ID", "id"),
        ("Ques Num", "id"),  # SIG
        ("Response", "answer"),
        ("CSP CAIQ Answer", "answer"),  # CAIQ v4
        ("CSP Implementation Description (Optional/Recommended)", "notes"),
        ("SSRM Control Ownership", None),
        ("Vendor Response", "answer"),
        ("Yes / No", "answer"),
        ("Response (Yes/No/N/A)", "answer"),
        ("Compliant", "answer"),
        ("Status", "answer"),
        ("Comments / Evidence", "notes"),
        ("Details / Additional Information", "notes"),
        ("Justification", "notes"),
        ("Supporting evidence", "notes"),
        ("Remarks", "notes"),
        ("Domain", "section"),
        ("Category", "section"),
        ("Control Domain", "section"),
        ("Larkspur Retail Group: Vendor Security Questionnaire", None),
        ("", None),
    ],
)
def test_header_vocabulary(header: str, role: str | None) -> None:
    assert header_role(header) == role


@pytest.mark.unit
def test_question_like_text() -> None:
    assert looks_like_question("What is your RTO and RPO?")
    assert looks_like_question("Describe how your disaster recovery plan is tested.")
    assert looks_like_question("Please list your subprocessors")
    assert not looks_like_question("2. Access Control")
    assert not looks_like_question("Complete every question on the next sheet.")


# --- the sample workbook -------------------------------------------------------------------


@pytest.mark.unit
def test_sample_workbook_questions_sections_and_dropdowns() -> None:
    extraction = extract_xlsx(SAMPLE)
    questions = extraction.questions
    assert [q.qid for q in questions] == SAMPLE_IDS
    assert [q.key for q in questions] == SAMPLE_IDS  # ids are unique, so they are the keys
    assert all(q.location.startswith("Vendor Security!B") for q in questions)
    by_id = {q.qid: q for q in questions}
    assert by_id["GOV-01"].section == ("1. Governance",)
    assert by_id["AC-02"].section == ("2. Access Control",)
    assert by_id["ENC-03"].section == ("3. Encryption",)
    assert by_id["IR-03"].section == ("4. Incident Response & Continuity",)
    assert by_id["PRV-05"].section == ("5. Privacy & Data Retention",)
    assert by_id["IR-03"].text == "What is your RTO and RPO?"
    # the refs computed by formulas are read from their saved values
    assert by_id["GOV-03"].location == "Vendor Security!B8"
    assert by_id["AC-04"].text.startswith("How quickly is access revoked")
    for question in questions:
        assert question.answer is not None and question.notes is not None
        assert question.answer.ref.startswith("Vendor Security!C")
        assert question.notes.ref.startswith("Vendor Security!D")
        assert question.answer.current is None and question.notes.current is None
        assert question.notes.allowed == ()
        # the x14 dropdown points at the hidden Lists sheet; free-text answers have none
        expected = () if question.qid in FREE_TEXT else ("Yes", "No", "N/A")
        assert question.answer.allowed == expected, question.qid
    layout = extraction.layout["sheets"]["Vendor Security"]
    assert layout == {
        "header_row": 4,
        "question": "B",
        "id": "A",
        "answer": "C",
        "notes": "D",
        "section": None,
        "answer_is_free_text_column": False,
        "choices": None,
        "questions": 31,
        "dropdown": ["Yes", "No", "N/A"],
        "yes_no_column": False,
    }
    assert extraction.layout["skipped"]["Lists"] == "hidden"
    assert "Instructions" in extraction.layout["skipped"]
    assert not any(q.location.startswith(("Lists", "Instructions")) for q in questions)


@pytest.mark.unit
def test_sample_script_is_deterministic(tmp_path: Path) -> None:
    import runpy

    script = runpy.run_path(str(ROOT / "examples" / "make_sample_questionnaire.py"))
    assert script["build"](tmp_path / "again.xlsx") == 31
    assert (tmp_path / "again.xlsx").read_bytes() == SAMPLE.read_bytes()


# --- the Northwind questionnaire -----------------------------------------------------------


@pytest.mark.unit
def test_northwind_questionnaire() -> None:
    path = northwind()
    extraction = extract_xlsx(path)
    questions = extraction.questions
    assert len(questions) == 108
    assert questions[0].qid == "GRC-01" and questions[-1].qid == "CLD-06"
    assert len({q.key for q in questions}) == 108
    sheet = sheet_of(load_workbook(path, data_only=True), "Security Questionnaire")
    for number, question in enumerate(questions, start=2):
        assert question.key == question.qid == sheet.cell(number, 1).value
        assert question.text == sheet.cell(number, 3).value
        assert question.section == (sheet.cell(number, 2).value,)
        assert question.location == f"Security Questionnaire!C{number}"
        assert question.answer is not None and question.notes is not None
        assert question.answer.role is TargetRole.ANSWER
        assert question.answer.ref == f"Security Questionnaire!D{number}"
        assert question.answer.current == sheet.cell(number, 4).value
        # No dropdown, but every answer is Yes or No: the reader gives the place those values.
        assert question.answer.allowed == YES_NO_VALUES
        assert question.answer.kind is TargetKind.DROPDOWN
        assert question.notes.kind is TargetKind.TEXT
        assert question.notes.ref == f"Security Questionnaire!E{number}"
        assert question.notes.current == sheet.cell(number, 5).value
    layout = extraction.layout["sheets"]["Security Questionnaire"]
    assert (
        layout["header_row"],
        layout["id"],
        layout["section"],
        layout["question"],
        layout["answer"],
        layout["notes"],
    ) == (1, "A", "B", "C", "D", "E")
    assert layout["yes_no_column"] is True
    assert any("About" in w for w in extraction.warnings)


# --- options ---------------------------------------------------------------------------------


@pytest.mark.unit
def test_options_override_detection(tmp_path: Path) -> None:
    path = workbook_file(
        tmp_path / "odd.xlsx",
        {
            "Odd": [
                ["Form v2"],
                ["Code", "Ask", "Reply here", "Why"],
                ["X1", "Encryption at rest", "Yes", "AES"],
                ["X2", "Background screening", None, None],
            ]
        },
    )
    with pytest.raises(DDQError) as caught:
        extract_xlsx(path)
    assert caught.value.code is ErrorCode.NO_QUESTIONS
    assert "--question-column" in str(caught.value)
    options = ExtractOptions(
        header_row=2,
        question_column="B",
        id_column="a",
        answer_column="Reply here",
        notes_column="why",
    )
    extraction = extract_xlsx(path, options)
    assert [(q.qid, q.text) for q in extraction.questions] == [
        ("X1", "Encryption at rest"),
        ("X2", "Background screening"),
    ]
    first = extraction.questions[0]
    assert first.answer is not None and first.answer.ref == "Odd!C3"
    assert first.answer.current == "Yes"
    assert first.notes is not None and first.notes.ref == "Odd!D3"
    # header text alone finds the header row
    by_text = extract_xlsx(
        path, ExtractOptions(question_column="Ask", id_column="Code", answer_column="Reply here")
    )
    assert [q.key for q in by_text.questions] == ["X1", "X2"]
    assert by_text.layout["sheets"]["Odd"]["header_row"] == 2


@pytest.mark.unit
def test_sheet_option(tmp_path: Path) -> None:
    def hide(workbook: Workbook) -> None:
        sheet_of(workbook, "Hidden").sheet_state = "hidden"

    rows: Rows = [["Question", "Response"], ["Is MFA enforced?", None]]
    path = workbook_file(tmp_path / "two.xlsx", {"Main": rows, "Hidden": rows}, hide)
    assert [q.location for q in extract_xlsx(path).questions] == ["Main!A2"]
    forced = extract_xlsx(path, ExtractOptions(sheet="hidden"))  # case-insensitive
    assert [q.location for q in forced.questions] == ["Hidden!A2"]
    with pytest.raises(DDQError) as caught:
        extract_xlsx(path, ExtractOptions(sheet="Nope"))
    assert caught.value.code is ErrorCode.INVALID_INPUT
    assert "'Main'" in str(caught.value) and "'Hidden'" in str(caught.value)
    with pytest.raises(DDQError) as caught:
        extract_xlsx(path, ExtractOptions(question_column="Nonexistent header"))
    assert caught.value.code is ErrorCode.INVALID_INPUT


# --- layouts ---------------------------------------------------------------------------------


@pytest.mark.unit
def test_headings_nest_and_skip_instructions(tmp_path: Path) -> None:
    def style(workbook: Workbook) -> None:
        sheet = sheet_of(workbook, "S")
        for row in (3, 4, 7):
            sheet.cell(row, 1).font = Font(bold=True)
        sheet.merge_cells("A9:C9")

    path = workbook_file(
        tmp_path / "nested.xlsx",
        {
            "S": [
                ["Security questionnaire"],
                ["Question", "Answer", "Notes"],
                ["1 Security"],
                ["1.1 Access Control"],
                ["Is MFA enforced for staff?", "Yes", None],
                [
                    "Answer every question below. Use the notes column for any evidence "
                    "you can share."
                ],
                ["1.2 Encryption"],
                ["Is data encrypted at rest?", None, None],
                ["Describe your key management."],
                [None, None, None],
                ["How are keys rotated?", None, None],
            ]
        },
        style,
    )
    questions = extract_xlsx(path).questions
    assert [(q.text, q.section) for q in questions] == [
        ("Is MFA enforced for staff?", ("1 Security", "1.1 Access Control")),
        ("Is data encrypted at rest?", ("1 Security", "1.2 Encryption")),
        ("How are keys rotated?", ("1 Security", "1.2 Encryption")),
    ]
    assert [q.key for q in questions] == ["S!A5", "S!A8", "S!A11"]  # no ids: the cell


@pytest.mark.unit
def test_a_numbered_section_row_in_the_id_column_is_a_heading(tmp_path: Path) -> None:
    """"1 | Access Control" above "1.1 | Is MFA enforced?" names a section; it is not a
    question to answer."""
    path = workbook_file(
        tmp_path / "numbered.xlsx",
        {
            "S": [
                ["#", "Question", "Answer"],
                ["1", "Security"],
                ["1.1", "Access Control"],
                ["1.1.1", "Is MFA enforced for staff?"],
                ["1.1.2", "Company legal name"],
                ["1.2", "Encryption"],
                ["1.2.1", "Is data encrypted at rest?"],
                ["2", "Do you have a data protection officer?"],
                ["2.1", "If yes, how do customers reach them?"],
                ["A", "General"],
                ["A1", "Headquarters address"],
                ["10", "Business continuity plan"],
            ]
        },
    )
    questions = extract_xlsx(path).questions
    assert [(q.qid, q.text, q.section) for q in questions] == [
        ("1.1.1", "Is MFA enforced for staff?", ("Security", "Access Control")),
        # A label under a numbered section is still a question: it asks for a value.
        ("1.1.2", "Company legal name", ("Security", "Access Control")),
        ("1.2.1", "Is data encrypted at rest?", ("Security", "Encryption")),
        # A question that has sub-questions stays a question; section 1 ended above it.
        ("2", "Do you have a data protection officer?", ()),
        ("2.1", "If yes, how do customers reach them?", ()),
        ("A1", "Headquarters address", ("General",)),
        # "10" is not numbered inside "1" or "A", and nothing is numbered inside it.
        ("10", "Business continuity plan", ()),
    ]


@pytest.mark.unit
def test_ids_under_a_blank_header_are_found_by_their_look(tmp_path: Path) -> None:
    """HECVAT-style: the id column has no header, the codes are still the questions' ids; a
    column with a header of its own is never taken for them."""
    path = workbook_file(tmp_path / "blank-id.xlsx", {"S": [
        [None, "Notes to self", "Question", "Vendor Answers", "Additional Information"],
        ["DOCU-01", "x1", "Have you undergone a SSAE 18/SOC 2 audit?", None, None],
        ["DOCU-02", "x2", "Have you completed the CSA CAIQ?", None, None],
        ["General", None, None, None, None],
        ["APPL-01", "x3", "Are you using a web application firewall?", None, None],
    ]})
    extraction = extract_xlsx(path)
    assert extraction.layout["sheets"]["S"]["id"] == "A"
    assert [q.qid for q in extraction.questions] == ["DOCU-01", "DOCU-02", "APPL-01"]


@pytest.mark.unit
def test_unnumbered_headings_by_look_and_section_column(tmp_path: Path) -> None:
    def style(workbook: Workbook) -> None:
        sheet = sheet_of(workbook, "S")
        for row in (2, 5):
            sheet.cell(row, 1).font = Font(bold=True, size=14)
            sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=4)
        sheet.cell(3, 1).font = Font(bold=True)
        sheet.cell(3, 1).fill = PatternFill("solid", start_color="DDDDDD")

    path = workbook_file(
        tmp_path / "look.xlsx",
        {
            "S": [
                ["#", "Category", "Question", "Response"],
                ["Security"],
                ["Access"],
                ["1", "Identity", "Is SSO supported?", "Yes"],
                ["Privacy"],
                ["2", "Retention", "How long is data kept?", None],
            ]
        },
        style,
    )
    questions = extract_xlsx(path).questions
    assert [q.section for q in questions] == [
        ("Security", "Access", "Identity"),
        ("Privacy", "Retention"),
    ]


@pytest.mark.unit
def test_no_header_falls_back_on_content(tmp_path: Path) -> None:
    def dropdown(workbook: Workbook) -> None:
        validation = DataValidation(type="list", formula1='"Yes,No,Partial"')
        validation.add("C1:C10")
        sheet_of(workbook, "Raw").add_data_validation(validation)

    path = workbook_file(
        tmp_path / "raw.xlsx",
        {
            "Raw": [
                ["Supplier assessment 2025"],
                ["A.1", "Do you have a security policy?", None],
                ["A.2", "Describe your incident response process", None],
                ["A.3", "Is data encrypted in transit?", "Yes"],
            ]
        },
        dropdown,
    )
    extraction = extract_xlsx(path)
    assert [q.qid for q in extraction.questions] == ["A.1", "A.2", "A.3"]
    layout = extraction.layout["sheets"]["Raw"]
    assert (layout["header_row"], layout["id"], layout["question"], layout["answer"]) == (
        None,
        "A",
        "B",
        "C",
    )
    answer = extraction.questions[2].answer
    assert answer is not None and answer.allowed == ("Yes", "No", "Partial")
    assert answer.current == "Yes"


@pytest.mark.unit
def test_dropdown_sources_defined_name_and_quoted_sheet(tmp_path: Path) -> None:
    def lists(workbook: Workbook) -> None:
        choices = workbook.create_sheet("My Lists")
        for row, value in enumerate(("Compliant", "Not compliant", "Partial"), start=1):
            choices.cell(row, 1, value)
        choices.sheet_state = "hidden"
        workbook.defined_names["Choices"] = DefinedName("Choices", attr_text="'My Lists'!$A$1:$A$3")
        sheet = sheet_of(workbook, "Q")
        named = DataValidation(type="list", formula1="Choices")
        named.add("C2")
        ranged = DataValidation(type="list", formula1="'My Lists'!$A$1:$A$2")
        ranged.add("C3")
        broken = DataValidation(type="list", formula1="INDIRECT(A1)")
        broken.add("C4")
        for validation in (named, ranged, broken):
            sheet.add_data_validation(validation)

    path = workbook_file(
        tmp_path / "lists.xlsx",
        {
            "Q": [
                ["Ref", "Question", "Status"],
                ["1", "Is MFA enforced?", None],
                ["2", "Is data encrypted?", None],
                ["3", "Are logs kept?", None],
            ]
        },
        lists,
    )
    extraction = extract_xlsx(path)
    allowed = [q.answer.allowed for q in extraction.questions if q.answer]
    assert allowed == [
        ("Compliant", "Not compliant", "Partial"),
        ("Compliant", "Not compliant"),
        (),
    ]
    assert any("INDIRECT" in w for w in extraction.warnings)


@pytest.mark.unit
def test_merged_cells_and_notes_only_sheet(tmp_path: Path) -> None:
    def merge(workbook: Workbook) -> None:
        sheet = sheet_of(workbook, "M")
        sheet.merge_cells("B2:B3")  # one question over two rows
        sheet.merge_cells("C2:D3")  # its answer box

    path = workbook_file(
        tmp_path / "merged.xlsx",
        {
            "M": [
                ["No.", "Question", "Comments", None],
                ["1", "Do you keep an asset inventory?", "Kept in the CMDB.", None],
                [None, None, None, None],
                ["2", "Is change management documented?", None, None],
            ]
        },
        merge,
    )
    extraction = extract_xlsx(path)
    questions = extraction.questions
    assert [q.qid for q in questions] == ["1", "2"]
    first = questions[0]
    assert first.answer is not None and first.answer.ref == "M!C2"  # the notes column answers
    assert first.answer.current == "Kept in the CMDB." and first.notes is None
    assert extraction.layout["sheets"]["M"]["answer_is_free_text_column"] is True


@pytest.mark.unit
def test_answer_place_inside_a_merge_maps_to_its_top_left(tmp_path: Path) -> None:
    def merge(workbook: Workbook) -> None:
        sheet_of(workbook, "M").merge_cells("B2:C2")  # question spread over B:C
        sheet_of(workbook, "M").merge_cells("D3:E3")  # answer box written from D3

    path = workbook_file(
        tmp_path / "merged2.xlsx",
        {
            "M": [
                ["ID", "Question", None, "Response", "Response"],
                ["1", "Is MFA enforced?", None, None, None],
                ["2", "Is data encrypted?", None, None, None],
            ]
        },
        merge,
    )
    extraction = extract_xlsx(path, ExtractOptions(answer_column="E"))
    refs = [q.answer.ref for q in extraction.questions if q.answer]
    assert refs == ["M!E2", "M!D3"]


@pytest.mark.unit
def test_keys_when_ids_repeat(tmp_path: Path) -> None:
    header: list[object] = ["ID", "Question", "Answer"]
    path = workbook_file(
        tmp_path / "ids.xlsx",
        {
            "One": [
                header,
                ["A-1", "Is MFA on?", None],
                ["A-2", "Is SSO on?", None],
                ["A-2", "Is SCIM on?", None],
            ],
            "Two": [header, ["A-1", "Are logs kept?", None], ["B-1", "Are logs reviewed?", None]],
        },
    )
    keys = [q.key for q in extract_xlsx(path).questions]
    assert keys == ["One!A-1", "One!B3", "One!B4", "Two!A-1", "B-1"]


@pytest.mark.unit
def test_formula_answer_cells_are_not_targets(tmp_path: Path) -> None:
    def formula(workbook: Workbook) -> None:
        sheet_of(workbook, "F")["C2"] = '=IF(A2="x","Yes","No")'

    path = workbook_file(
        tmp_path / "formula.xlsx",
        {
            "F": [
                ["ID", "Question", "Answer"],
                ["x", "Is it computed?", None],
                ["y", "Is it typed?", None],
            ]
        },
        formula,
    )
    extraction = extract_xlsx(path)
    assert [q.answer is None for q in extraction.questions] == [True, False]
    assert any("F!C2 holds a formula" in w for w in extraction.warnings)


@pytest.mark.unit
def test_thousand_questions_are_quick(tmp_path: Path) -> None:
    rows: Rows = [["ID", "Domain", "Question", "Response", "Comments"]]
    rows += [
        [f"Q-{n}", f"Domain {n // 50}", f"Is control number {n} in place?", None, None]
        for n in range(1000)
    ]
    path = workbook_file(tmp_path / "big.xlsx", {"Big": rows})
    started = time.perf_counter()
    extraction = extract_xlsx(path)
    extracted = time.perf_counter() - started
    assert len(extraction.questions) == 1000
    values = {t.ref: f"answer {t.ref}" for q in extraction.questions for t in q.targets}
    started = time.perf_counter()
    assert write_xlsx(path, tmp_path / "big-out.xlsx", values) == 2000
    written = time.perf_counter() - started
    assert extracted < 3 and written < 3, (extracted, written)


# --- refused input ---------------------------------------------------------------------------


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in entries.items():
            package.writestr(name, data)
    return buffer.getvalue()


def _claims_huge_size(data: bytes) -> bytes:
    """A small zip whose central directory says an entry inflates to 4 GB."""
    patched = bytearray(data)
    at = patched.index(b"PK\x01\x02", patched.index(b"PK\x01\x02") + 4)  # second entry
    patched[at + 24 : at + 28] = struct.pack("<I", 0xFFFF0000)
    return bytes(patched)


def _encrypted(path: Path) -> None:
    path.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 4096)


def _not_zip(path: Path) -> None:
    path.write_bytes(b"Question,Answer\nIs MFA on?,Yes\n")


def _no_content_types(path: Path) -> None:
    path.write_bytes(_zip({"xl/workbook.xml": b"<workbook/>"}))


def _bomb_by_ratio(path: Path) -> None:
    path.write_bytes(_zip({"[Content_Types].xml": b"<Types/>", "xl/big.xml": bytes(20 << 20)}))


def _bomb_by_size(path: Path) -> None:
    path.write_bytes(
        _claims_huge_size(_zip({"[Content_Types].xml": b"<Types/>", "xl/big.xml": b"<x/>" * 100}))
    )


def _too_large(path: Path) -> None:
    with path.open("wb") as handle:
        handle.write(b"PK\x03\x04")
        handle.truncate(51 * 1024 * 1024)  # sparse: no real disk use


def _corrupt_workbook(path: Path) -> None:
    path.write_bytes(_zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<oops"}))


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _no_questions(path: Path) -> None:
    workbook_file(path, {"Notes": [["Meeting notes"], ["Budget approved."], [1, 2, 3]]})


BAD_FILES: list[tuple[Callable[[Path], None], ErrorCode]] = [
    (_encrypted, ErrorCode.ENCRYPTED_FILE),
    (_not_zip, ErrorCode.UNREADABLE_FILE),
    (_no_content_types, ErrorCode.UNREADABLE_FILE),
    (_bomb_by_ratio, ErrorCode.UNSAFE_FILE),
    (_bomb_by_size, ErrorCode.UNSAFE_FILE),
    (_too_large, ErrorCode.FILE_TOO_LARGE),
    (_corrupt_workbook, ErrorCode.UNREADABLE_FILE),
    (_empty, ErrorCode.EMPTY_FILE),
    (_no_questions, ErrorCode.NO_QUESTIONS),
]


@pytest.mark.unit
@pytest.mark.parametrize(("make", "code"), BAD_FILES, ids=[m.__name__ for m, _ in BAD_FILES])
def test_bad_files_are_refused(
    tmp_path: Path, make: Callable[[Path], None], code: ErrorCode
) -> None:
    source = tmp_path / "in" / "bad.xlsx"
    source.parent.mkdir()
    make(source)
    with pytest.raises(DDQError) as caught:
        extract_xlsx(source)
    assert caught.value.code is code, caught.value
    assert "\n" not in str(caught.value)
    out = tmp_path / "out"
    out.mkdir()
    if code is not ErrorCode.NO_QUESTIONS:
        with pytest.raises(DDQError) as caught:
            write_xlsx(source, out / "answered.xlsx", {"Sheet!A1": "x"})
        assert caught.value.code is code
    assert list(out.iterdir()) == []  # nothing written, not even a temporary file


@pytest.mark.unit
def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DDQError) as caught:
        extract_xlsx(tmp_path / "absent.xlsx")
    assert caught.value.code is ErrorCode.NOT_FOUND


# --- writing ---------------------------------------------------------------------------------


def _sheet_xml(path: Path, part: str = "xl/worksheets/sheet1.xml") -> str:
    with zipfile.ZipFile(path) as package:
        return package.read(part).decode("utf-8")


@pytest.mark.unit
def test_write_neutralises_formulas_and_strips_control_characters(tmp_path: Path) -> None:
    source = simple_questionnaire(tmp_path / "q.xlsx")
    out = tmp_path / "answered.xlsx"
    values = {
        "Q!C2": '=HYPERLINK("http://x")',
        "Q!D2": "+1",
        "Q!C3": "-2",
        "Q!D3": "@SUM(1)",
        "Q!E2": "\tTab",
        "Q!E3": "line one\nline two\x00\x07 end",
    }
    assert write_xlsx(source, out, values) == 6
    sheet = sheet_of(load_workbook(out), "Q")
    assert sheet["C2"].value == '\'=HYPERLINK("http://x")' and sheet["C2"].data_type == "s"
    assert sheet["D2"].value == "'+1"
    assert sheet["C3"].value == "'-2"
    assert sheet["D3"].value == "'@SUM(1)"
    assert sheet["E2"].value == "'\tTab"
    assert sheet["E3"].value == "line one\nline two end"
    assert 't="inlineStr"' in _sheet_xml(out)


@pytest.mark.unit
def test_write_clears_and_keeps_style(tmp_path: Path) -> None:
    def style(workbook: Workbook) -> None:
        sheet_of(workbook, "Q")["C3"].font = Font(bold=True, color="FF0000")

    source = tmp_path / "q.xlsx"
    workbook_file(
        source,
        {
            "Q": [
                ["ID", "Question", "Answer"],
                ["1", "Is MFA on?", "Yes"],
                ["2", "Is SSO on?", "No"],
            ]
        },
        style,
    )
    out = tmp_path / "blank.xlsx"
    write_xlsx(source, out, {"Q!C3": "", "Q!C2": "", "Q!C9": ""})
    sheet = sheet_of(load_workbook(out), "Q")
    assert sheet["C2"].value is None and sheet["C3"].value is None
    assert sheet["C3"].font.b and sheet["C3"].font.color.rgb == "00FF0000"
    xml = _sheet_xml(out)
    assert '<c r="C3" s="' in xml and 'r="C9"' not in xml and 'r="9"' not in xml


@pytest.mark.unit
def test_write_creates_rows_and_cells_in_order(tmp_path: Path) -> None:
    source = simple_questionnaire(tmp_path / "q.xlsx")
    out = tmp_path / "grown.xlsx"
    assert 'r="C2"' not in _sheet_xml(source)  # row 2 has B2 and D2, not C2
    write_xlsx(source, out, {"Q!F9": "far", "Q!A5": "gap", "Q!C2": "between", "Q!AA3": "wide"})
    xml = _sheet_xml(out)
    assert xml.index('<row r="3"') < xml.index('<row r="5"') < xml.index('<row r="9"')
    assert xml.index('r="B2"') < xml.index('r="C2"') < xml.index('r="D2"')
    assert xml.index('r="D3"') < xml.index('r="AA3"')
    assert '<dimension ref="A1:AA9"/>' in xml
    sheet = sheet_of(load_workbook(out), "Q")
    assert (sheet["F9"].value, sheet["A5"].value, sheet["C2"].value, sheet["AA3"].value) == (
        "far",
        "gap",
        "between",
        "wide",
    )


@pytest.mark.unit
def test_write_refusals_leave_nothing(tmp_path: Path) -> None:
    def extras(workbook: Workbook) -> None:
        sheet = sheet_of(workbook, "Q")
        sheet["C2"] = "=1+1"
        sheet.merge_cells("D2:E2")

    source = tmp_path / "q.xlsx"
    workbook_file(
        source,
        {"Q": [["ID", "Question", "Answer", "Notes"], ["1", "Is MFA on?", None, None]]},
        extras,
    )
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "answered.xlsx"
    cases = {
        "unknown sheet": {"Nope!C2": "x"},
        "bad cell": {"Q!2C": "x"},
        "no sheet": {"C2": "x"},
        "formula": {"Q!D2": "ok", "Q!C2": "x"},
        "merged": {"Q!E2": "x"},
        "twice": {"Q!D2": "x", "q!d2": "y"},
        "too long": {"Q!D2": "x" * 40_000},
    }
    for name, values in cases.items():
        with pytest.raises(DDQError) as caught:
            write_xlsx(source, out, values)
        assert caught.value.code is ErrorCode.INVALID_INPUT, name
        assert list(out_dir.iterdir()) == [], name
    with pytest.raises(DDQError, match="never overwrites the original") as caught:
        write_xlsx(source, source, {"Q!D2": "x"})
    assert caught.value.code is ErrorCode.INVALID_INPUT
    link = tmp_path / "link.xlsx"
    os.symlink(source, link)
    with pytest.raises(DDQError, match="never overwrites the original"):
        write_xlsx(source, link, {"Q!D2": "x"})


@pytest.mark.unit
def test_write_refuses_a_doctype(tmp_path: Path) -> None:
    source = simple_questionnaire(tmp_path / "q.xlsx")
    hostile = tmp_path / "hostile.xlsx"
    with zipfile.ZipFile(source) as package, zipfile.ZipFile(hostile, "w") as out:
        for info in package.infolist():
            data = package.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = b'<!DOCTYPE worksheet [<!ENTITY x "boom">]>' + data
            out.writestr(info, data)
    with pytest.raises(DDQError) as caught:
        write_xlsx(hostile, tmp_path / "out.xlsx", {"Q!C2": "Yes"})
    assert caught.value.code is ErrorCode.UNSAFE_FILE
    assert not (tmp_path / "out.xlsx").exists()


@pytest.mark.unit
def test_write_overwrites_an_earlier_export(tmp_path: Path) -> None:
    source = simple_questionnaire(tmp_path / "q.xlsx")
    out = tmp_path / "answered.xlsx"
    write_xlsx(source, out, {"Q!C2": "first"})
    write_xlsx(source, out, {"Q!C2": "second"})
    assert sheet_of(load_workbook(out), "Q")["C2"].value == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answered.xlsx", "q.xlsx"]


@pytest.mark.unit
def test_written_answers_read_back_as_current(tmp_path: Path) -> None:
    out = tmp_path / "answered.xlsx"
    extraction = extract_xlsx(SAMPLE)
    values = {}
    for question in extraction.questions:
        assert question.answer is not None and question.notes is not None
        values[question.answer.ref] = (question.answer.allowed or ("Written",))[0]
        values[question.notes.ref] = f"Evidence for {question.qid}"
    write_xlsx(SAMPLE, out, values)
    again = extract_xlsx(out)
    assert [q.key for q in again.questions] == SAMPLE_IDS
    for question in again.questions:
        assert question.answer is not None and question.notes is not None
        assert question.answer.current == values[question.answer.ref]
        assert question.notes.current == f"Evidence for {question.qid}"
        assert question.answer.allowed == ((), ("Yes", "No", "N/A"))[question.qid not in FREE_TEXT]


# --- choices marked with an X ----------------------------------------------------------------


def _marks_form(path: Path) -> Path:
    """'Yes | No | N/A' columns to put an X under, a comments column, one row answered."""
    return workbook_file(path, {"Vendor": [
        ["Vendor security questionnaire: mark X in one column"],
        ["Question", "Yes", "No", "N/A", "Comments"],
        ["Is MFA enforced for administrators?", None, None, None, None],
        ["Are backups encrypted?", "x", None, None, "AES-256, daily"],
        ["Do you hold a FedRAMP authorization?", None, None, None, None],
    ]})


@pytest.mark.unit
def test_yes_no_columns_to_mark_are_one_answer_place(tmp_path: Path) -> None:
    extraction = extract_xlsx(_marks_form(tmp_path / "marks.xlsx"))
    layout = extraction.layout["sheets"]["Vendor"]
    # "No" beside "Yes" is a choice, not the number column.
    assert layout["id"] is None and layout["notes"] == "E"
    assert layout["choices"] == {"B": "Yes", "C": "No", "D": "N/A"}
    assert not extraction.warnings
    first, answered, _ = extraction.questions
    assert first.answer is not None and first.notes is not None
    assert (first.answer.ref, first.answer.allowed, first.answer.current) == (
        "Vendor!B3:D3", ("Yes", "No", "N/A"), None)
    assert first.notes.ref == "Vendor!E3"
    assert answered.answer is not None and answered.answer.current == "Yes"
    # Beside the choices, a response column takes the text.
    beside = workbook_file(tmp_path / "beside.xlsx", {"S": [
        ["Question", "Yes", "No", "Vendor Response"], ["Is MFA enforced?", None, None, None]]})
    [question] = extract_xlsx(beside).questions
    assert question.answer is not None and question.notes is not None
    assert (question.answer.ref, question.notes.ref) == ("S!B2:C2", "S!D2")
    # Without a Yes beside it, "No." is still the number column.
    numbered = workbook_file(tmp_path / "numbered.xlsx", {"S": [
        ["No.", "Question", "Answer"], ["1", "Is MFA enforced?", None]]})
    assert extract_xlsx(numbered).layout["sheets"]["S"]["id"] == "A"


@pytest.mark.unit
def test_marking_a_choice_clears_the_others_and_uses_the_forms_mark(tmp_path: Path) -> None:
    source = _marks_form(tmp_path / "marks.xlsx")
    out = tmp_path / "answered.xlsx"
    write_xlsx(source, out, {"Vendor!B3:D3": "yes", "Vendor!E3": "Enforced by Okta",
                             "Vendor!B4:D4": "No", "Vendor!B5:D5": ""})
    sheet = sheet_of(load_workbook(out), "Vendor")
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3, max_row=5)]
    # The form marks with a lower-case x already, so the answers do too.
    assert rows == [["Is MFA enforced for administrators?", "x", None, None, "Enforced by Okta"],
                    ["Are backups encrypted?", None, "x", None, "AES-256, daily"],
                    ["Do you hold a FedRAMP authorization?", None, None, None, None]]
    reread = extract_xlsx(out).questions
    assert [q.answer.current for q in reread if q.answer] == ["Yes", "No", None]


@pytest.mark.unit
@pytest.mark.parametrize(("values", "message"), [
    ({"Vendor!B3:D3": "Maybe"}, "'Maybe' is none of the choices (Yes / No / N/A)"),
    ({"Vendor!B3:D4": "Yes"}, "a range of choices is part of one row"),
    ({"Vendor!A3:B3": "Yes"}, "no header row above these cells names the choices"),
    ({"Vendor!B3:D3": "Yes", "Vendor!C3": "x"}, "the same cell is written twice"),
])
def test_a_bad_choice_is_refused_and_nothing_is_written(
    tmp_path: Path, values: dict[str, str], message: str
) -> None:
    source = _marks_form(tmp_path / "marks.xlsx")
    out = tmp_path / "out" / "answered.xlsx"
    out.parent.mkdir()
    with pytest.raises(DDQError) as caught:
        write_xlsx(source, out, values)
    assert caught.value.code is ErrorCode.INVALID_INPUT
    assert message in str(caught.value)
    assert list(out.parent.iterdir()) == []


@pytest.mark.unit
def test_empty_boxes_under_the_choices_are_ticked_not_replaced(tmp_path: Path) -> None:
    source = workbook_file(tmp_path / "boxes.xlsx", {"S": [
        ["Question", "Yes", "No"],
        ["Is MFA enforced?", "☐", "☐"],
        ["Are backups encrypted?", "☐", "☐"],
    ]})
    mfa, backups = extract_xlsx(source).questions
    assert mfa.answer is not None and mfa.answer.current is None  # an empty box is no mark
    assert backups.answer is not None
    out = tmp_path / "answered.xlsx"
    write_xlsx(source, out, {mfa.answer.ref: "Yes", backups.answer.ref: "No"})
    sheet = sheet_of(load_workbook(out), "S")
    assert [[c.value for c in row] for row in sheet.iter_rows(min_row=2, min_col=2)] == [
        ["☒", "☐"], ["☐", "☒"]]


@pytest.mark.unit
def test_character_limits_from_text_length_rules_and_headers(tmp_path: Path) -> None:
    def limits(workbook: Workbook) -> None:
        sheet = sheet_of(workbook, "S")
        rule = DataValidation(type="textLength", operator="lessThanOrEqual", formula1="300")
        sheet.add_data_validation(rule)
        rule.add("B2:B3")

    path = workbook_file(tmp_path / "limits.xlsx", {"S": [
        ["Question", "Response", "Comments (max 120 characters)"],
        ["Describe your key management.", None, None],
        ["Describe your backups.", None, None],
    ]}, limits)
    for question in extract_xlsx(path).questions:
        assert question.answer is not None and question.notes is not None
        assert (question.answer.max_chars, question.notes.max_chars) == (300, 120)


@pytest.mark.unit
def test_a_second_header_row_names_the_answer_places(tmp_path: Path) -> None:
    """"Vendor Response" merged over "Yes/No/N/A | Comments", or over "Yes | No | N/A"."""
    def merges(workbook: Workbook) -> None:
        for name, ranges in (("Dropdown", ("A1:A2", "B1:B2", "C1:D1")),
                             ("Marks", ("A1:A2", "B1:E1", "F1:F2"))):
            for cells in ranges:
                sheet_of(workbook, name).merge_cells(cells)

    path = workbook_file(tmp_path / "two-rows.xlsx", {
        "Dropdown": [["ID", "Question", "Vendor Response", None],
                     [None, None, "Yes/No/N/A", "Comments (max 200 characters)"],
                     ["1", "Do you encrypt data at rest?", None, None]],
        "Marks": [["Question", "Vendor Response", None, None, None, "Comments"],
                  [None, "Yes", "No", "N/A", None, None],
                  ["Do you encrypt data at rest?", None, "x", None, None, None]],
    }, merges)
    extraction = extract_xlsx(path)
    dropdown, marks = extraction.questions
    assert dropdown.answer is not None and dropdown.notes is not None
    assert (dropdown.qid, dropdown.answer.ref, dropdown.notes.ref, dropdown.notes.max_chars) == (
        "1", "Dropdown!C3", "Dropdown!D3", 200)
    assert marks.answer is not None and marks.notes is not None
    assert (marks.answer.ref, marks.answer.current, marks.notes.ref) == (
        "Marks!B3:D3", "No", "Marks!F3")


@pytest.mark.unit
def test_a_forms_prompts_are_not_answers(tmp_path: Path) -> None:
    """"Please select" in a dropdown cell and "[Enter comments]" in a text cell are the
    form's prompts: the places are empty, and an export writes over them."""
    def select(workbook: Workbook) -> None:
        sheet = sheet_of(workbook, "Q")
        rule = DataValidation(type="list", formula1='"Please select,Yes,No,N/A"')
        sheet.add_data_validation(rule)
        rule.add("C2:C4")

    path = workbook_file(tmp_path / "prompts.xlsx", {"Q": [
        ["ID", "Question", "Response", "Comments"],
        ["1", "Do you encrypt data at rest?", "Please select", "[Enter comments]"],
        ["2", "Do you support CMEK?", "-- Select --", "Click here to enter text."],
        ["3", "Is MFA enforced?", "Yes", "Selected admins only"],
    ]}, select)
    questions = extract_xlsx(path).questions
    assert [(q.answer.current, q.notes.current) for q in questions if q.answer and q.notes] == [
        (None, None), (None, None), ("Yes", "Selected admins only")]
    out = tmp_path / "answered.xlsx"
    write_xlsx(path, out, {"Q!C2": "Yes", "Q!D2": "AES-256."})
    sheet = sheet_of(load_workbook(out), "Q")
    assert [sheet["C2"].value, sheet["D2"].value, sheet["C3"].value] == [
        "Yes", "AES-256.", "-- Select --"]


@pytest.mark.unit
def test_a_number_written_before_the_question_is_its_id(tmp_path: Path) -> None:
    path = workbook_file(tmp_path / "inline.xlsx", {"Q": [
        ["Question", "Answer"],
        ["1. Governance"],
        ["1.1 Do you have a board-approved security policy?", None],
        ["Q1.2: Is the policy reviewed annually?", None],
        ["a) Who approves it?", None],
    ]})
    assert [(q.qid, q.text, q.key) for q in extract_xlsx(path).questions] == [
        ("1.1", "Do you have a board-approved security policy?", "1.1"),
        ("Q1.2", "Is the policy reviewed annually?", "Q1.2"),
        (None, "a) Who approves it?", "Q!A5"),  # a letter is not an id to rely on
    ]


@pytest.mark.unit
def test_a_blank_form_marks_with_the_value_its_choice_cells_offer(tmp_path: Path) -> None:
    """No row is marked yet, but the choice cells' dropdown offers one value ("✓")."""
    def tick(workbook: Workbook) -> None:
        rule = DataValidation(type="list", formula1='"✓"')
        sheet_of(workbook, "S").add_data_validation(rule)
        rule.add("B2:C3")

    source = workbook_file(tmp_path / "tick.xlsx", {"S": [
        ["Question", "Yes", "No"], ["Is MFA enforced?", None, None],
        ["Is data encrypted?", None, None]]}, tick)
    mfa, data = extract_xlsx(source).questions
    assert mfa.answer is not None and data.answer is not None
    out = tmp_path / "answered.xlsx"
    write_xlsx(source, out, {mfa.answer.ref: "Yes", data.answer.ref: "No"})
    sheet = sheet_of(load_workbook(out), "S")
    assert [[c.value for c in row] for row in sheet.iter_rows(min_row=2, min_col=2)] == [
        ["✓", None], [None, "✓"]]


@pytest.mark.unit
def test_a_section_written_once_covers_the_rows_below_it(tmp_path: Path) -> None:
    path = workbook_file(tmp_path / "groups.xlsx", {"Q": [
        ["Category", "ID", "Question", "Response"],
        ["Access Control", "AC-1", "Is MFA enforced?", None],
        [None, "AC-2", "Are access reviews quarterly?", None],
        ["Encryption", "EN-1", "Is data encrypted at rest?", None],
    ]})
    assert [q.section for q in extract_xlsx(path).questions] == [
        ("Access Control",), ("Access Control",), ("Encryption",)]
