"""DOCX questionnaires: what is extracted, where answers are written, what is refused."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import docx
import pytest
from docx.document import Document
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from docx.shared import Inches

from ddq.errors import DDQError, ErrorCode
from ddq.forms import ExtractOptions, FileFormat, TargetRole
from ddq.questionnaire.formats.docx.reading import extract_docx
from ddq.questionnaire.formats.docx.writing import write_docx
from support.word_forms import make_docx

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "questionnaires" / "harborline_investor_ddq.docx"
TITLE = "Operational Due Diligence Questionnaire"
OLE_HEADER = bytes.fromhex("D0CF11E0A1B11AE1")

SAMPLE_KEYS = ["1.1", "1.2", "2.1", "2.2", "2.3", "2.4", "3.1", "3.2", "3.3", "3.4", "3.5",
               "3.6", "4.1", "4.2", "4.3", "5.1", "5.2", "5.3", "5.4", "6.1", "6.2"]


@pytest.fixture(scope="module")
def sample() -> Path:
    if not SAMPLE.is_file():
        pytest.fail(f"{SAMPLE} is missing; run .venv/bin/python "
                    "examples/make_sample_questionnaire_docx.py")
    return SAMPLE


def dropdown(paragraph: object, values: tuple[str, ...]) -> None:
    items = "".join(f'<w:listItem w:displayText="{v}" w:value="{v}"/>' for v in values)
    paragraph._p.append(parse_xml(  # type: ignore[attr-defined]
        f"<w:sdt {nsdecls('w')}><w:sdtPr><w:showingPlcHdr/><w:dropDownList>"
        '<w:listItem w:displayText="Choose an item." w:value=""/>'
        f"{items}</w:dropDownList></w:sdtPr><w:sdtContent><w:r><w:rPr>"
        '<w:rStyle w:val="PlaceholderText"/><w:i/></w:rPr><w:t>Choose an item.</w:t></w:r>'
        "</w:sdtContent></w:sdt>"))


# --- the sample questionnaire ----------------------------------------------------------------


@pytest.mark.unit
def test_sample_has_every_question_with_its_number(sample: Path) -> None:
    extraction = extract_docx(sample)
    assert extraction.format is FileFormat.DOCX
    assert [q.key for q in extraction.questions] == SAMPLE_KEYS
    assert [q.qid for q in extraction.questions] == SAMPLE_KEYS
    assert extraction.warnings == []
    first = extraction.questions[0]
    assert first.text == "Describe the firm's principal product and the clients it serves."
    assert first.location == "paragraph 6"


@pytest.mark.unit
def test_sample_sections_follow_headings_and_table_section_rows(sample: Path) -> None:
    sections = {q.key: q.section for q in extract_docx(sample).questions}
    assert sections["1.1"] == (TITLE, "Firm Overview")
    assert sections["2.1"] == (TITLE, "Governance and Compliance", "Security governance")
    assert sections["2.4"] == (TITLE, "Governance and Compliance", "Independent assurance")
    assert sections["3.1"] == (TITLE, "Cybersecurity Controls", "Identity and access")
    assert sections["3.5"] == (TITLE, "Cybersecurity Controls", "Data protection and awareness")
    assert sections["4.2"] == (TITLE, "Business Continuity and Incident Response")
    assert sections["5.1"] == (TITLE, "Data Privacy and Third Parties")
    assert sections["6.2"] == (TITLE, "Insurance and Legal")


@pytest.mark.unit
def test_sample_answer_places_of_both_shapes(sample: Path) -> None:
    by_key = {q.key: q for q in extract_docx(sample).questions}
    refs = {key: q.answer.ref for key, q in by_key.items() if q.answer is not None}
    assert refs["1.1"] == "paragraph:6"
    assert refs["2.1"] == "after:11"  # the next question follows directly
    assert refs["2.2"] == "paragraph:13"  # "Response:" label
    assert refs["2.3"] == "paragraph:16"  # "[Insert response]" placeholder
    assert refs["4.1"] == "paragraph:23"  # automatic numbering
    assert refs["3.1"] == "table:0:2:2"
    assert refs["5.4"] == "table:1:4:2"
    assert all(q.answer is not None and q.answer.current is None for q in by_key.values())
    assert by_key["5.1"].location == "table 2, row 2"


@pytest.mark.unit
def test_sample_yes_no_column_has_allowed_values_and_comments_as_notes(sample: Path) -> None:
    extraction = extract_docx(sample)
    for question in extraction.questions:
        assert question.answer is not None
        if question.key.startswith("3."):
            assert question.answer.allowed == ("Yes", "No", "N/A")
            assert question.notes is not None and question.notes.role is TargetRole.NOTES
            assert question.notes.ref == question.answer.ref[:-1] + "3"
        else:
            assert question.answer.allowed == ()
            assert question.notes is None
    tables = extraction.layout["tables"]
    assert [t["yes_no"] for t in tables] == [True, False]
    assert tables[0]["columns"] == {"id": 0, "question": 1, "section": None, "answer": 2,
                                    "notes": 3, "choices": None}
    assert extraction.layout["answer_style"] == "DDQ Response"
    assert extraction.layout["after_targets"] == 1


@pytest.mark.unit
def test_sample_generator_is_deterministic(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_sample", ROOT / "examples" / "make_sample_questionnaire_docx.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    builds = []
    for _ in range(2):
        buffer = __import__("io").BytesIO()
        module.build().save(buffer)
        builds.append(module.deterministic_zip(buffer.getvalue()))
    assert builds[0] == builds[1]


# --- paragraph shapes ----------------------------------------------------------------------------


def _paragraph_shapes(document: Document) -> None:
    document.add_heading("Security", level=1)
    document.add_paragraph("Please read the guidance first.")
    document.add_paragraph("Q3: Do you encrypt backups?")
    document.add_paragraph("Answer: Yes, with AES-256.")
    document.add_paragraph("a) Describe your patching process.")
    document.add_paragraph("Click here to enter text.")
    document.add_paragraph("Is there a bug bounty?", style="List Number")
    document.add_paragraph("")
    document.add_paragraph("Which regions host data?", style="List Number")
    document.add_heading("People", level=2)
    document.add_paragraph("Unnumbered question with an explicit place?")
    document.add_paragraph("Response:")
    document.add_paragraph("An unnumbered remark, not a question?")
    document.add_paragraph("")


@pytest.mark.unit
def test_numbered_paragraph_shapes(tmp_path: Path) -> None:
    extraction = extract_docx(make_docx(tmp_path, _paragraph_shapes))
    found = [(q.qid, q.text, q.answer.ref if q.answer else None,
              q.answer.current if q.answer else None, q.section)
             for q in extraction.questions]
    assert found == [
        ("Q3", "Do you encrypt backups?", "paragraph:3", "Yes, with AES-256.", ("Security",)),
        ("a", "Describe your patching process.", "paragraph:5", None, ("Security",)),
        ("1", "Is there a bug bounty?", "paragraph:7", None, ("Security",)),
        ("2", "Which regions host data?", "after:8", None, ("Security",)),
        (None, "Unnumbered question with an explicit place?", "paragraph:11", None,
         ("Security", "People")),
    ]
    assert [q.key for q in extraction.questions] == ["Q3", "a", "1", "2", "paragraph 11"]


@pytest.mark.unit
def test_duplicate_numbers_are_keyed_by_location(tmp_path: Path) -> None:
    def build(document: Document) -> None:
        for _ in range(2):
            document.add_paragraph("1. Do you have a security policy?")
            document.add_paragraph("")

    extraction = extract_docx(make_docx(tmp_path, build))
    assert [q.key for q in extraction.questions] == ["paragraph 1", "paragraph 3"]
    assert [q.qid for q in extraction.questions] == ["1", "1"]
    assert extraction.warnings and "'1'" in extraction.warnings[0]


@pytest.mark.unit
def test_body_content_controls_are_reported(tmp_path: Path) -> None:
    def build(document: Document) -> None:
        document.add_paragraph("1. Do you have a policy?")
        document.element.body.insert(1, parse_xml(
            f"<w:sdt {nsdecls('w')}><w:sdtContent><w:p><w:r><w:t>2. Is it reviewed?</w:t>"
            "</w:r></w:p></w:sdtContent></w:sdt>"))

    extraction = extract_docx(make_docx(tmp_path, build))
    assert [q.key for q in extraction.questions] == ["1"]
    assert "1 content control(s)" in extraction.warnings[0]


# --- table shapes --------------------------------------------------------------------------------


def _table(document: Document, rows: list[list[str]]) -> None:
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value


@pytest.mark.unit
def test_header_table_with_compliant_column_and_existing_answers(tmp_path: Path) -> None:
    def build(document: Document) -> None:
        document.add_heading("Controls", level=1)
        _table(document, [["Ref", "Requirement", "Compliant", "Vendor Response"],
                          ["AC-1", "MFA for administrators", "Yes", "Enforced by IdP."],
                          ["AC-2", "Quarterly access reviews", "", ""],
                          ["", "", "", ""]])

    extraction = extract_docx(make_docx(tmp_path, build))
    first, second = extraction.questions
    assert (first.key, first.text, first.section) == ("AC-1", "MFA for administrators",
                                                      ("Controls",))
    assert first.answer is not None and first.notes is not None
    assert (first.answer.ref, first.answer.allowed, first.answer.current) == (
        "table:0:1:2", ("Yes", "No", "N/A"), "Yes")
    assert (first.notes.ref, first.notes.current) == ("table:0:1:3", "Enforced by IdP.")
    assert second.answer is not None and second.answer.current is None
    assert second.location == "table 1, row 3"


@pytest.mark.unit
def test_a_table_with_a_column_per_choice_is_answered_by_marking(tmp_path: Path) -> None:
    """"Comply | Partially comply | Do not comply" columns: one answer place per row, the
    form's mark under the chosen one, the others cleared; boxes ("☐") are ticked instead."""
    def build(document: Document) -> None:
        _table(document, [["Requirement", "Comply", "Partially comply", "Do not comply",
                           "Comments"],
                          ["MFA for administrators", "", "✓", "", "Admins only"],
                          ["Quarterly access reviews", "", "", "", ""]])
        _table(document, [["Question", "Yes", "No", "Remarks"],
                          ["Is data encrypted at rest?", "☐", "☐", ""],
                          ["Do you support customer-managed keys?", "☐", "☐", ""]])

    source = make_docx(tmp_path, build)
    extraction = extract_docx(source)
    mfa, reviews, encrypted, keys = extraction.questions
    assert mfa.answer is not None and mfa.notes is not None
    assert (mfa.answer.ref, mfa.answer.allowed, mfa.answer.current) == (
        "table:0:1:1-3", ("Comply", "Partially comply", "Do not comply"), "Partially comply")
    assert mfa.notes.ref == "table:0:1:4"
    assert extraction.layout["tables"][0]["columns"]["choices"] == {
        1: "Comply", 2: "Partially comply", 3: "Do not comply"}
    # An empty box is not a mark.
    assert encrypted.answer is not None and encrypted.answer.current is None
    assert reviews.answer is not None and keys.answer is not None

    out = tmp_path / "answered.docx"
    write_docx(source, out, {mfa.answer.ref: "comply", reviews.answer.ref: "Do not comply",
                             encrypted.answer.ref: "Yes", keys.answer.ref: "No"})
    tables = docx.Document(str(out)).tables
    assert [[c.text for c in row.cells[1:4]] for row in tables[0].rows[1:]] == [
        ["✓", "", ""], ["", "", "✓"]]
    assert [[c.text for c in row.cells[1:3]] for row in tables[1].rows[1:]] == [
        ["☒", "☐"], ["☐", "☒"]]
    assert [q.answer.current for q in extract_docx(out).questions if q.answer] == [
        "Comply", "Do not comply", "Yes", "No"]

    refused = tmp_path / "refused.docx"
    for values, message in (({mfa.answer.ref: "Maybe"}, "'Maybe' is none of the choices"),
                            ({"table:0:1:0-1": "Yes"}, "no header row above these cells")):
        with pytest.raises(DDQError) as caught:
            write_docx(source, refused, values)
        assert caught.value.code is ErrorCode.INVALID_INPUT and message in str(caught.value)
        assert not refused.exists()


@pytest.mark.unit
def test_a_table_with_each_answer_in_the_row_below_its_question(tmp_path: Path) -> None:
    """"1.1 | Describe ..." then a full-width "Response:" row: the row below is the answer
    place; a full-width row that asks nothing and follows no question is a section."""
    def build(document: Document) -> None:
        document.add_heading("Operational Due Diligence", level=1)
        table = document.add_table(rows=0, cols=2)
        rows = [("Valuation",), ("1.1", "Describe the firm's valuation policy."),
                ("Response:",), ("1.2", "Who is the fund administrator?"),
                ("Northern Trust.",), ("Service providers",),
                ("2.1", "Is the auditor independent of the administrator?"),
                ("[Insert response here]",)]
        for texts in rows:
            cells = table.add_row().cells
            if len(texts) == 1:
                cells[0].merge(cells[1]).text = texts[0]
            else:
                cells[0].text, cells[1].text = texts

    src = make_docx(tmp_path, build)
    extraction = extract_docx(src)
    assert [(q.qid, q.section, q.answer.ref if q.answer else None,
             q.answer.current if q.answer else None) for q in extraction.questions] == [
        ("1.1", ("Operational Due Diligence", "Valuation"), "table:0:2:0", None),
        ("1.2", ("Operational Due Diligence", "Valuation"), "table:0:4:0", "Northern Trust."),
        ("2.1", ("Operational Due Diligence", "Service providers"), "table:0:7:0", None)]
    dst = tmp_path / "answered.docx"
    write_docx(src, dst, {"table:0:2:0": "Independent pricing sources, monthly.",
                          "table:0:7:0": "Yes."})
    table = docx.Document(str(dst)).tables[0]
    assert [table.cell(r, 0).text for r in (2, 4, 7)] == [
        "Response: Independent pricing sources, monthly.", "Northern Trust.", "Yes."]


@pytest.mark.unit
def test_a_one_cell_table_under_a_question_is_its_answer_box(tmp_path: Path) -> None:
    """"A.1 Please describe ..." with a bordered box below for the answer; a box under
    text that asks nothing (a note) is not a question."""
    def build(document: Document) -> None:
        document.add_heading("Section A - Organisation", level=1)
        document.add_paragraph("A.1 Please describe the ownership structure of the firm.")
        document.add_table(rows=1, cols=1)
        document.add_paragraph("Has the firm been sanctioned in the last five years?")
        document.add_table(rows=1, cols=1).cell(0, 0).text = "No sanctions."
        document.add_paragraph("Please note the following definitions.")
        document.add_table(rows=1, cols=1).cell(0, 0).text = "Firm: the adviser."
        document.add_paragraph("AC-1 Who is the Chief Compliance Officer?")
        document.add_table(rows=1, cols=1).cell(0, 0).text = "[Response]"

    src = make_docx(tmp_path, build)
    extraction = extract_docx(src)
    assert [(q.qid, q.text, q.answer.ref if q.answer else None,
             q.answer.current if q.answer else None) for q in extraction.questions] == [
        ("A.1", "Please describe the ownership structure of the firm.", "table:0:0:0", None),
        (None, "Has the firm been sanctioned in the last five years?", "table:1:0:0",
         "No sanctions."),
        ("AC-1", "Who is the Chief Compliance Officer?", "table:3:0:0", None)]
    dst = tmp_path / "answered.docx"
    write_docx(src, dst, {"table:0:0:0": "Employee-owned.", "table:3:0:0": "Jane Doe."})
    assert [t.cell(0, 0).text for t in docx.Document(str(dst)).tables] == [
        "Employee-owned.", "No sanctions.", "Firm: the adviser.", "Jane Doe."]


@pytest.mark.unit
def test_a_question_set_in_a_heading_style_is_a_question(tmp_path: Path) -> None:
    """"1.1 Does the firm have a manual?" in Heading 3 above an empty paragraph asks; a
    heading that asks but has body text (or, unnumbered, a blank line) under it is a
    heading."""
    def build(document: Document) -> None:
        document.add_heading("Compliance", level=1)
        document.add_heading("1.1 Does the firm have a written compliance manual?", level=3)
        document.add_paragraph("")
        document.add_heading("1.2 Describe how the manual is kept current.", level=3)
        document.add_paragraph("[Insert response]")
        document.add_heading("Why choose Harborline?", level=2)
        document.add_paragraph("We have answered questionnaires since 2012.")
        document.add_heading("Who are we?", level=3)
        document.add_paragraph("")  # spacing, not an answer place
        document.add_paragraph("A firm of twelve.")
        document.add_paragraph("2.1 Who approves the manual?")
        document.add_paragraph("Response:")

    extraction = extract_docx(make_docx(tmp_path, build))
    assert [(q.qid, q.text, q.section, q.answer.ref if q.answer else None)
            for q in extraction.questions] == [
        ("1.1", "Does the firm have a written compliance manual?", ("Compliance",),
         "paragraph:2"),
        ("1.2", "Describe how the manual is kept current.", ("Compliance",), "paragraph:4"),
        ("2.1", "Who approves the manual?",
         ("Compliance", "Why choose Harborline?", "Who are we?"), "paragraph:11")]


@pytest.mark.unit
def test_two_column_table_without_header_and_dropdown_answer(tmp_path: Path) -> None:
    def build(document: Document) -> None:
        _table(document, [["Company name", "Harborline"],
                          ["Do you hold cyber insurance?", ""],
                          ["Is data stored in the EU?", ""]])
        dropdown(document.tables[0].cell(2, 1).paragraphs[0], ("Yes", "No", "Partly"))

    extraction = extract_docx(make_docx(tmp_path, build))
    assert [q.text for q in extraction.questions] == ["Do you hold cyber insurance?",
                                                      "Is data stored in the EU?"]
    insured, stored = extraction.questions
    assert insured.answer is not None and stored.answer is not None
    assert insured.answer.ref == "table:0:1:1" and insured.answer.allowed == ()
    assert stored.answer.allowed == ("Yes", "No", "Partly")
    assert stored.answer.current is None
    assert extraction.layout["tables"][0]["kind"] == "two_column"


@pytest.mark.unit
def test_options_name_the_table_columns(tmp_path: Path) -> None:
    def build(document: Document) -> None:
        _table(document, [["Item", "Ask", "Vendor reply"], ["7", "Backups tested?", ""]])

    path = make_docx(tmp_path, build)
    with pytest.raises(DDQError) as excinfo:
        extract_docx(path)
    assert excinfo.value.code is ErrorCode.NO_QUESTIONS
    extraction = extract_docx(path, ExtractOptions(question_column="ask",
                                                   answer_column="3"))
    [question] = extraction.questions
    assert (question.qid, question.text) == ("7", "Backups tested?")
    assert question.answer is not None and question.answer.ref == "table:0:1:2"


# --- writing -------------------------------------------------------------------------------------


def _writable(document: Document) -> None:
    document.add_paragraph("1. Describe your backups?")
    answer = document.add_paragraph("", style="Quote")
    answer.paragraph_format.left_indent = Inches(0.5)
    document.add_paragraph("2. Do you encrypt data?")
    document.add_paragraph("3. Who owns security?")
    label = document.add_paragraph(style="Quote")
    label.add_run("Answer: ").bold = True
    label.add_run("TBD").italic = True
    document.add_paragraph("4. Is MFA on?")
    document.add_paragraph(style="Quote").add_run("[Answer]").italic = True
    _table(document, [["#", "Question", "Yes/No", "Comments"], ["5", "Pen tests?", "", ""]])
    dropdown(document.tables[0].cell(1, 2).paragraphs[0], ("Yes", "No"))
    comments = document.tables[0].cell(1, 3)
    comments.paragraphs[0].add_run("old").bold = True
    comments.add_paragraph("older")


@pytest.mark.unit
def test_write_puts_values_in_place_and_keeps_formatting(tmp_path: Path) -> None:
    src = make_docx(tmp_path, _writable)
    extraction = extract_docx(src)
    refs = {q.key: q.answer.ref for q in extraction.questions if q.answer}
    assert refs == {"1": "paragraph:1", "2": "after:2", "3": "paragraph:4", "4": "paragraph:6",
                    "5": "table:0:1:2"}
    notes = extraction.questions[-1].notes
    assert notes is not None and notes.current == "old\nolder"
    values = {refs["1"]: "Daily, kept 35 days.\nTested quarterly.", refs["2"]: "=Yes",
              refs["3"]: "The Head of Security.", refs["4"]: "Yes", refs["5"]: "Yes",
              notes.ref: "Annual, by an independent firm."}
    dst = tmp_path / "out" / "answered.docx"
    assert write_docx(src, dst, values) == 6

    out = docx.Document(str(dst))
    texts = [p.text for p in out.paragraphs]
    assert texts == ["1. Describe your backups?", "Daily, kept 35 days.\nTested quarterly.",
                     "2. Do you encrypt data?", "'=Yes", "3. Who owns security?",
                     "Answer: The Head of Security.", "4. Is MFA on?", "Yes"]
    backups = out.paragraphs[1]
    assert backups.style is not None and backups.style.name == "Quote"
    assert backups.paragraph_format.left_indent == Inches(0.5)
    inserted = out.paragraphs[3]  # follows the answer-paragraph convention ("Quote")
    assert inserted.style is not None and inserted.style.name == "Quote"
    label_runs = [(r.text, r.bold, r.italic) for r in out.paragraphs[5].runs]
    assert label_runs == [("Answer: ", True, None), ("The Head of Security.", None, True)]
    assert [(r.text, r.italic) for r in out.paragraphs[7].runs] == [("Yes", None)]
    cell_xml = out.tables[0].cell(1, 2)._tc.xml
    assert "showingPlcHdr" not in cell_xml and "PlaceholderText" not in cell_xml
    assert "<w:t>Yes</w:t>" in cell_xml and "w:dropDownList" in cell_xml
    comments = out.tables[0].cell(1, 3)
    assert [p.text for p in comments.paragraphs] == ["Annual, by an independent firm."]
    assert comments.paragraphs[0].runs[0].bold is True
    reread = {q.key: q.answer.current for q in extract_docx(dst).questions if q.answer}
    assert reread["5"] == "Yes" and reread["3"] == "The Head of Security."


@pytest.mark.unit
def test_an_answer_after_a_bare_label_is_spaced_from_it(tmp_path: Path) -> None:
    def build(document: Document) -> None:
        document.add_paragraph("1.1 Please provide the full legal name of the firm.")
        document.add_paragraph("Response:")
        document.add_paragraph("1.2 Is the firm registered with a regulator?")
        document.add_paragraph().add_run("Answer:").bold = True

    src = make_docx(tmp_path, build)
    values = {q.answer.ref: f"Text {q.qid}." for q in extract_docx(src).questions if q.answer}
    dst = tmp_path / "answered.docx"
    write_docx(src, dst, values)
    out = docx.Document(str(dst)).paragraphs
    assert [out[1].text, out[3].text] == ["Response: Text 1.1.", "Answer: Text 1.2."]
    assert [(r.text, r.bold) for r in out[3].runs] == [("Answer:", True), (" Text 1.2.", None)]


@pytest.mark.unit
def test_refs_resolve_against_the_original_paragraphs(tmp_path: Path) -> None:
    def build(document: Document) -> None:
        for number in range(1, 4):
            document.add_paragraph(f"{number}. Is control {number} in place?")

    src = make_docx(tmp_path, build)
    refs = [q.answer.ref for q in extract_docx(src).questions if q.answer]
    assert refs == ["after:0", "after:1", "after:2"]
    dst = tmp_path / "answered.docx"
    write_docx(src, dst, {ref: f"A{n}" for n, ref in enumerate(refs, start=1)})
    assert [p.text for p in docx.Document(str(dst)).paragraphs] == [
        "1. Is control 1 in place?", "A1", "2. Is control 2 in place?", "A2",
        "3. Is control 3 in place?", "A3"]


@pytest.mark.unit
@pytest.mark.parametrize("ref", ["paragraph:99", "table:3:0:0", "table:0:9:0", "cell:1",
                                 "after:-1", "Sheet1!A1"])
def test_unknown_ref_is_refused_without_output(tmp_path: Path, ref: str) -> None:
    src = make_docx(tmp_path, _writable)
    dst = tmp_path / "answered.docx"
    with pytest.raises(DDQError) as excinfo:
        write_docx(src, dst, {ref: "x"})
    assert excinfo.value.code is ErrorCode.INVALID_INPUT
    assert not dst.exists()


@pytest.mark.unit
def test_export_never_overwrites_the_original(sample: Path, tmp_path: Path) -> None:
    src = tmp_path / "q.docx"
    src.write_bytes(sample.read_bytes())
    for dst in (src, tmp_path / "." / "q.docx"):
        with pytest.raises(DDQError) as excinfo:
            write_docx(src, dst, {"paragraph:6": "x"})
        assert excinfo.value.code is ErrorCode.INVALID_INPUT
        assert "never overwrites" in str(excinfo.value)
    assert src.read_bytes() == sample.read_bytes()


# --- bad input -----------------------------------------------------------------------------------


def _corrupt_docx(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("word/document.xml", "<w:document><not-closed>")
    return path


def _no_questions(tmp_path: Path) -> Path:
    def build(document: Document) -> None:
        document.add_heading("Security overview", level=1)
        document.add_paragraph("We encrypt data at rest.")
        _table(document, [["Control", "Owner"], ["Backups", "SRE"]])

    return make_docx(tmp_path, build, "policy.docx")


@pytest.mark.unit
@pytest.mark.parametrize(("make", "code"), [
    (_no_questions, ErrorCode.NO_QUESTIONS),
    (lambda d: _corrupt_docx(d / "corrupt.docx"), ErrorCode.UNREADABLE_FILE),
    (lambda d: (d / "plain.docx").write_text("just text") and d / "plain.docx",
     ErrorCode.UNREADABLE_FILE),
    (lambda d: (d / "locked.docx").write_bytes(OLE_HEADER + b"\0" * 1016) and d / "locked.docx",
     ErrorCode.ENCRYPTED_FILE),
    (lambda d: (d / "empty.docx").write_bytes(b"") or d / "empty.docx", ErrorCode.EMPTY_FILE),
    (lambda d: d / "missing.docx", ErrorCode.NOT_FOUND),
], ids=["no-questions", "corrupt", "not-a-zip", "encrypted", "empty", "missing"])
def test_bad_input_is_a_clear_error_and_writes_nothing(
        tmp_path: Path, make: Callable[[Path], Path], code: ErrorCode) -> None:
    path = make(tmp_path)
    with pytest.raises(DDQError) as excinfo:
        extract_docx(path)
    assert excinfo.value.code is code
    assert str(path) in str(excinfo.value) and "\n" not in str(excinfo.value)
    if code is not ErrorCode.NO_QUESTIONS:
        dst = tmp_path / "out.docx"
        with pytest.raises(DDQError):
            write_docx(path, dst, {"paragraph:0": "x"})
        assert not dst.exists()
