"""Check boxes in Word questionnaires: read as the allowed values, answered by ticking one."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
import pytest
from docx.document import Document
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from lxml import etree

from ddq.errors import DDQError, ErrorCode
from ddq.forms import Extraction, TargetRole
from ddq.questionnaire.formats.docx.body_xml import cell_text, paragraph_text
from ddq.questionnaire.formats.docx.reading import extract_docx
from ddq.questionnaire.formats.docx.writing import write_docx
from support.word_forms import build_form, make_docx


@pytest.fixture
def form(tmp_path: Path) -> Path:
    return make_docx(tmp_path, build_form)


def _by_key(extraction: Extraction) -> dict[str, tuple[tuple[str, ...], str | None, str | None]]:
    """Question text -> (allowed values, current answer, the notes place's ref)."""
    out = {}
    for q in extraction.questions:
        assert q.answer is not None, q.text
        out[q.text] = (q.answer.allowed, q.answer.current, q.notes.ref if q.notes else None)
    return out


@pytest.mark.unit
def test_every_kind_of_check_box_is_read_as_the_allowed_values(form: Path) -> None:
    extraction = extract_docx(form)
    assert _by_key(extraction) == {
        "Do you encrypt backups?": (("Yes", "No", "N/A"), None, "after:2"),
        # The question's own boxes; the labelled paragraph below takes the notes.
        "Is MFA enforced for administrators?": (("Yes", "No"), None, "paragraph:4"),
        "Do you run annual penetration tests?": (("Yes", "No"), None, "table:0:1:1:below"),
        "Is a SOC 2 report available?": (("Yes", "No"), None, "table:0:2:1:below"),
        # A ticked box is the answer the file already has; so is the text below the boxes.
        "Do you allow BYOD?": (("Yes", "No"), "No", "table:0:3:1:below"),
        "Is there a DPO?": (("Yes", "No"), "No", "table:0:4:1:below"),
    }
    encrypt, mfa = extraction.questions[:2]
    assert (encrypt.qid, encrypt.section) == ("1", ("Security",))
    assert encrypt.answer is not None and encrypt.answer.ref == "paragraph:2"
    assert mfa.answer is not None and mfa.answer.ref == "paragraph:3"
    dpo = extraction.questions[-1]
    assert dpo.notes is not None and dpo.notes.role is TargetRole.NOTES
    assert dpo.notes.current == "Appointed in 2021."


def _ticks(xml: bytes) -> list[str]:
    """Every box state in document order: glyphs, content controls, form fields."""
    root = etree.fromstring(xml)
    ns = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
          "w14": "http://schemas.microsoft.com/office/word/2010/wordml"}
    states = []
    for element in root.iter():
        tag = etree.QName(element).localname
        if tag == "t" and element.getparent().getparent().tag != f"{{{ns['w']}}}sdtContent":
            states += [c for c in element.text or "" if c in "☐☒"]
        elif tag == "sdt":
            [checked] = element.xpath("w:sdtPr/w14:checkbox/w14:checked/@w14:val", namespaces=ns)
            [shown] = element.xpath("w:sdtContent//w:t/text()", namespaces=ns)
            states.append(f"control:{checked}:{shown}")
        elif tag == "checkBox":
            states.append("field:" + "".join(
                element.xpath("w:checked/@w:val", namespaces=ns) or ["-"]))
    return states


@pytest.mark.unit
def test_ticking_marks_the_chosen_box_and_clears_the_others(form: Path, tmp_path: Path) -> None:
    extraction = extract_docx(form)
    chosen = ["N/A", "yes", "Yes", "No", "Yes", "Yes"]  # matched without regard to case
    values = {q.answer.ref: value for q, value in zip(extraction.questions, chosen, strict=True)
              if q.answer is not None}
    notes = {q.notes.ref: f"Note on {q.text}" for q in extraction.questions if q.notes}
    dst = tmp_path / "out.docx"
    assert write_docx(form, dst, values | notes) == 12
    with zipfile.ZipFile(form) as old, zipfile.ZipFile(dst) as new:
        before, after = old.read("word/document.xml"), new.read("word/document.xml")
    assert _ticks(before) == ["☐", "☐", "☐", "☐", "☐", "☐", "☐",
                              "control:0:☐", "control:0:☐", "field:-", "field:-", "☐", "☒"]
    assert _ticks(after) == ["☐", "☐", "☒", "☒", "☐", "☒", "☐",
                             "control:0:☐", "control:1:☒", "field:1", "field:0", "☒", "☐"]
    reread = extract_docx(dst)
    assert [q.answer.current for q in reread.questions if q.answer] == [
        "N/A", "Yes", "Yes", "No", "Yes", "Yes"]
    # Notes written into a place the form had are read back there; a paragraph inserted
    # below a line of boxes is plain text to the reader (the form had no place for it).
    assert [q.notes.current for q in reread.questions if q.notes] == [None] + [
        f"Note on {q.text}" for q in extraction.questions[1:]]
    answered = docx.Document(str(dst))
    # The labels and everything around the boxes stay as they were.
    texts = [paragraph_text(p._p) for p in answered.paragraphs]
    assert texts == ["Security", "1. Do you encrypt backups?", "☐ Yes     ☐ No     ☒ N/A",
                     "Note on Do you encrypt backups?",
                     "2. Is MFA enforced for administrators?   ☒ Yes  ☐ No",
                     "Comments: Note on Is MFA enforced for administrators?",
                     "Signed by the vendor."]
    table = answered.tables[0]
    assert cell_text(table.cell(1, 1)._tc) == (
        "☒ Yes ☐ No\nNote on Do you run annual penetration tests?")
    # The text below the DPO boxes was the current note: it is replaced, not added to.
    assert cell_text(table.cell(4, 1)._tc) == "Yes ☒   No ☐\nNote on Is there a DPO?"


@pytest.mark.unit
def test_a_value_that_is_no_box_label_is_refused_and_nothing_is_written(
        form: Path, tmp_path: Path) -> None:
    extraction = extract_docx(form)
    first, second = extraction.questions[:2]
    assert first.answer is not None and second.answer is not None
    dst = tmp_path / "out.docx"
    with pytest.raises(DDQError) as excinfo:
        write_docx(form, dst, {second.answer.ref: "Yes", first.answer.ref: "Maybe"})
    assert excinfo.value.code is ErrorCode.INVALID_INPUT
    assert "check boxes (Yes / No / N/A)" in str(excinfo.value) and "'Maybe'" in str(
        excinfo.value)
    assert not dst.exists()
    with pytest.raises(DDQError, match="no check boxes"):
        write_docx(form, dst, {"table:0:0:1:below": "text"})
    assert not dst.exists()


@pytest.mark.unit
def test_a_single_box_or_unlabelled_boxes_are_not_a_choice(tmp_path: Path) -> None:
    def build(document: Document) -> None:
        document.add_paragraph("1. Do you agree to the terms?")
        document.add_paragraph("☐ I agree")
        document.add_paragraph("2. Which regions do you host in?")
        document.add_paragraph("☐ ☐ ☐")

    extraction = extract_docx(make_docx(tmp_path, build))
    assert [(q.answer.ref, q.answer.allowed) for q in extraction.questions if q.answer] == [
        ("after:0", ()), ("after:2", ())]


@pytest.mark.unit
def test_wingdings_boxes_from_insert_symbol_are_read_and_ticked(tmp_path: Path) -> None:
    def sym(paragraph: object, char: str) -> None:
        paragraph._p.append(parse_xml(  # type: ignore[attr-defined]
            f'<w:r {nsdecls("w")}><w:sym w:font="Wingdings" w:char="{char}"/></w:r>'))

    def build(document: Document) -> None:
        document.add_paragraph("1. Is there a business continuity plan?")
        boxes = document.add_paragraph()
        for char, label in (("F0A8", " Yes   "), ("F0FD", " No   "), ("F06E", " (not a box)")):
            sym(boxes, char)
            boxes.add_run(label)

    src = make_docx(tmp_path, build)
    [question] = extract_docx(src).questions
    assert question.answer is not None
    assert (question.answer.ref, question.answer.allowed, question.answer.current) == (
        "paragraph:1", ("Yes", "No"), "No")
    dst = tmp_path / "out.docx"
    write_docx(src, dst, {question.answer.ref: "Yes"})
    with zipfile.ZipFile(dst) as package:
        root = etree.fromstring(package.read("word/document.xml"))
    chars = [s.get(f"{{{root.nsmap['w']}}}char") for s in root.iter(f"{{{root.nsmap['w']}}}sym")]
    assert chars == ["F0FD", "F0A8", "F06E"]  # the form's own ticked box, then cleared
    [reread] = extract_docx(dst).questions
    assert reread.answer is not None and reread.answer.current == "Yes"


@pytest.mark.unit
def test_a_prompt_below_the_boxes_takes_the_note_and_keeps_its_words(tmp_path: Path) -> None:
    def build(document: Document) -> None:
        table = document.add_table(rows=2, cols=2)
        table.cell(0, 0).text, table.cell(0, 1).text = "Question", "Response"
        table.cell(1, 0).text = "Do you screen employees before hiring?"
        cell = table.cell(1, 1)
        cell.text = "☐ Yes ☐ No"
        cell.add_paragraph("If yes, describe: ______")
        document.add_paragraph("2. Do you review access quarterly?")
        document.add_paragraph("☐ Yes ☐ No")
        document.add_paragraph("Details: [insert text]")
        document.add_paragraph("3. Is there an access policy?")
        document.add_paragraph("☐ Yes ☐ No")
        document.add_paragraph("4. Describe the policy:")  # a question, not a place for notes

    src = make_docx(tmp_path, build)
    table_question, paragraph_question, policy, described = extract_docx(src).questions
    assert policy.notes is not None and policy.notes.ref == "after:4"
    assert described.answer is not None and described.answer.ref == "after:5"
    assert table_question.notes is not None and paragraph_question.notes is not None
    # A prompt with only a placeholder after it is where the note goes, not a note.
    assert (table_question.notes.ref, table_question.notes.current) == (
        "table:0:1:1:below", None)
    assert (paragraph_question.notes.ref, paragraph_question.notes.current) == (
        "paragraph:2", None)
    assert table_question.answer is not None and paragraph_question.answer is not None
    dst = tmp_path / "out.docx"
    write_docx(src, dst, {table_question.answer.ref: "Yes",
                          table_question.notes.ref: "Background checks for every hire.",
                          paragraph_question.answer.ref: "No",
                          paragraph_question.notes.ref: "Reviews are yearly."})
    answered = docx.Document(str(dst))
    assert cell_text(answered.tables[0].cell(1, 1)._tc) == (
        "☒ Yes ☐ No\nIf yes, describe: Background checks for every hire.")
    assert [paragraph_text(p._p) for p in answered.paragraphs][:3] == [
        "2. Do you review access quarterly?", "☐ Yes ☒ No", "Details: Reviews are yearly."]


@pytest.mark.unit
def test_a_box_in_each_choice_column_is_ticked_and_kept(tmp_path: Path) -> None:
    """"Question | Yes | No" with a Word check box control (or a form field) in each choice
    cell: the chosen one is ticked in its own kind, the other cleared, none replaced by text."""
    from support.word_forms import control_box, field_box

    def build(document: Document) -> None:
        table = document.add_table(rows=3, cols=3)
        for cell, text in zip(table.rows[0].cells, ("Question", "Yes", "No"), strict=True):
            cell.text = text
        table.cell(1, 0).text = "Do you encrypt backups?"
        table.cell(2, 0).text = "Is MFA enforced?"
        control_box(table.cell(1, 1).paragraphs[0], "")
        control_box(table.cell(1, 2).paragraphs[0], "", checked=True)
        field_box(table.cell(2, 1).paragraphs[0], "")
        field_box(table.cell(2, 2).paragraphs[0], "")

    src = make_docx(tmp_path, build)
    backups, mfa = extract_docx(src).questions
    assert backups.answer is not None and mfa.answer is not None
    assert (backups.answer.ref, backups.answer.current) == ("table:0:1:1-2", "No")
    assert (mfa.answer.ref, mfa.answer.current) == ("table:0:2:1-2", None)
    dst = tmp_path / "answered.docx"
    write_docx(src, dst, {backups.answer.ref: "Yes", mfa.answer.ref: "No"})
    assert [(q.answer.current if q.answer else None) for q in extract_docx(dst).questions] == [
        "Yes", "No"]
    cells = docx.Document(str(dst)).tables[0]._tbl
    w14 = "{http://schemas.microsoft.com/office/word/2010/wordml}"
    assert len(list(cells.iter(f"{w14}checkbox"))) == 2  # the controls are still there
    assert [c.get(f"{w14}val") for c in cells.iter(f"{w14}checked")] == ["1", "0"]
