"""The questionnaire format layer: one interface per file kind, one registry, typed places."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from ddq.errors import DDQError, ErrorCode
from ddq.forms import YES_NO_VALUES, FileFormat, Target, TargetKind, TargetRole
from ddq.questionnaire.files import SUPPORTED_QUESTIONNAIRES, extract
from ddq.questionnaire.formats import QuestionnaireFormat, format_for, formats

pytestmark = pytest.mark.unit


def _workbook(path: Path, rows: list[list[object]]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "S"
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def test_each_file_ending_has_one_format() -> None:
    assert {".xlsx", ".xlsm", ".docx", ".csv", ".tsv"} == SUPPORTED_QUESTIONNAIRES
    assert {f.format for f in formats()} == set(FileFormat)
    for fmt in formats():
        assert isinstance(fmt, QuestionnaireFormat)
        for suffix in fmt.suffixes:
            assert format_for(Path(f"form{suffix.upper()}")) is fmt


@pytest.mark.parametrize(("name", "says"), [
    ("form.xls", "legacy binary Office files"), ("form.doc", "save it as DOCX"),
    ("form.pdf", "questionnaires are read from .xlsx")])
def test_other_endings_are_refused_with_a_reason(name: str, says: str) -> None:
    with pytest.raises(DDQError) as caught:
        format_for(Path(name))
    assert caught.value.code is ErrorCode.UNSUPPORTED_FORMAT and says in str(caught.value)


def test_a_yes_no_column_without_a_dropdown_is_given_its_values(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "yn.xlsx", [
        ["Question", "Answer", "Comments"],
        ["Is MFA enforced?", "Yes", None], ["Are backups encrypted?", "No", None]])
    first, _ = extract(path).questions
    assert first.answer is not None and first.notes is not None
    assert (first.answer.kind, first.answer.allowed) == (TargetKind.DROPDOWN, YES_NO_VALUES)
    assert (first.notes.kind, first.notes.allowed) == (TargetKind.TEXT, ())


def test_choice_columns_are_choice_cells(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "marks.xlsx", [
        ["Question", "Yes", "No", "N/A", "Comments"], ["Is MFA enforced?", None, "x", None, None]])
    [question] = extract(path).questions
    assert question.answer is not None
    assert question.answer.kind is TargetKind.CHOICE_CELLS
    assert question.answer.allowed == ("Yes", "No", "N/A")


def test_csv_places_are_typed(tmp_path: Path) -> None:
    marks = tmp_path / "marks.csv"
    marks.write_text("Question,Yes,No,Comments\nIs MFA enforced?,,x,\n", encoding="utf-8")
    free = tmp_path / "free.csv"
    free.write_text("Question,Answer\nDescribe your backups.,\n", encoding="utf-8")
    [marked] = extract(marks).questions
    [written] = extract(free).questions
    assert marked.answer is not None and marked.answer.kind is TargetKind.CHOICE_CELLS
    assert written.answer is not None and written.answer.kind is TargetKind.TEXT


def test_a_stored_target_without_a_kind_reads_as_before() -> None:
    listed = Target.from_json({"role": "answer", "ref": "S!C5", "allowed": ["Yes", "No"]})
    free = Target.from_json({"role": "notes", "ref": "S!D5"})
    assert (listed.kind, free.kind) == (TargetKind.DROPDOWN, TargetKind.TEXT)
    boxes = Target(TargetRole.ANSWER, "paragraph:3", ("Yes", "No"), kind=TargetKind.CHECK_BOXES)
    assert Target.from_json(boxes.to_json()) == boxes


def test_word_check_boxes_are_typed(tmp_path: Path) -> None:
    from support.word_forms import build_form, make_docx

    extraction = extract(make_docx(tmp_path, build_form))
    assert {q.answer.kind for q in extraction.questions if q.answer} == {TargetKind.CHECK_BOXES}
    assert {q.notes.kind for q in extraction.questions if q.notes} == {TargetKind.TEXT}


def test_the_package_copy_replaces_named_parts_and_keeps_every_other_byte(tmp_path: Path) -> None:
    import zipfile

    from ddq.questionnaire.ooxml import copy_with_parts

    source = tmp_path / "in.zip"
    with zipfile.ZipFile(source, "w") as package:
        package.comment = b"made by hand"
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr(zipfile.ZipInfo("word/document.xml", (2020, 1, 2, 3, 4, 6)), "<old/>")
        package.writestr("word/media/image1.png", b"\x89PNG", zipfile.ZIP_STORED)
    copy = tmp_path / "out" / "copy.zip"
    with zipfile.ZipFile(source) as package:
        copy_with_parts(package, copy, {"WORD/document.xml": b"<new/>"})
        with pytest.raises(DDQError) as caught:
            copy_with_parts(package, tmp_path / "never.zip", {"word/missing.xml": b""})
    assert caught.value.code is ErrorCode.UNREADABLE_FILE and not (tmp_path / "never.zip").exists()
    with zipfile.ZipFile(source) as before, zipfile.ZipFile(copy) as after:
        assert after.comment == b"made by hand"
        assert [i.filename for i in after.infolist()] == [i.filename for i in before.infolist()]
        assert after.read("word/document.xml") == b"<new/>"
        assert after.getinfo("word/document.xml").date_time == (2020, 1, 2, 3, 4, 6)
        for name in ("[Content_Types].xml", "word/media/image1.png"):
            assert after.read(name) == before.read(name)
            assert after.getinfo(name).compress_type == before.getinfo(name).compress_type


def test_naming_the_formats_imports_no_parser() -> None:
    import subprocess
    import sys

    code = ("import sys; from ddq.questionnaire.files import SUPPORTED_QUESTIONNAIRES; "
            "print(sorted(m for m in ('openpyxl', 'docx', 'lxml') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
