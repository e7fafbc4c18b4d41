"""Fidelity of an answered copy: only answer places change, and Office still opens it.

The sample Word questionnaire gets a value in every answer place; then the copy is compared
with the original paragraph by paragraph, cell by cell and package part by package part, and
LibreOffice converts it to PDF. The Northwind CSV gets the same treatment cell by cell.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import docx
import pytest
from lxml import etree

from ddq.forms import Extraction
from ddq.questionnaire.formats.csv.reading import extract_csv
from ddq.questionnaire.formats.csv.writing import write_csv
from ddq.questionnaire.formats.docx.body_xml import cell_text
from ddq.questionnaire.formats.docx.reading import extract_docx
from ddq.questionnaire.formats.docx.writing import write_docx
from support.word_forms import build_form, make_docx

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "questionnaires" / "harborline_investor_ddq.docx"
SHARED_DATA = ROOT.parent / "shared" / "data"
INBOUND = SHARED_DATA / "northwind" / "questionnaires" / "Inbound_Security_Questionnaire.csv"
DOCUMENT_PART = "word/document.xml"


def _require(path: Path, how: str) -> Path:
    if not path.is_file():
        pytest.fail(f"{path} is missing; {how}")
    return path


def _values(extraction: Extraction) -> dict[str, str]:
    """A distinct value for every answer place: Yes for a dropdown, text elsewhere."""
    values: dict[str, str] = {}
    for question in extraction.questions:
        for target in question.targets:
            values[target.ref] = (target.allowed[0] if target.allowed
                                  else f"Answer {question.key} ({target.role.value}).\nDone.")
    return values


def _xml(element: Any) -> bytes:
    return etree.tostring(element)


def _style(item: Any) -> str | None:
    return item.style.name if item.style is not None else None


def _runs(paragraph: Any) -> list[tuple[Any, ...]]:
    return [(r.text, r.bold, r.italic, r.underline, r.font.size, r.font.name)
            for r in paragraph.runs]


@pytest.fixture(scope="module")
def answered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    src = _require(SAMPLE, "run .venv/bin/python examples/make_sample_questionnaire_docx.py")
    values = _values(extract_docx(src))
    dst = tmp_path_factory.mktemp("docx") / "answered.docx"
    assert write_docx(src, dst, values) == len(values)
    return src, dst, values


@pytest.mark.integration
def test_only_answer_paragraphs_change(answered: tuple[Path, Path, dict[str, str]]) -> None:
    src, dst, values = answered
    before, after = docx.Document(str(src)), docx.Document(str(dst))
    inserted_after = {int(ref.split(":")[1]) for ref in values if ref.startswith("after:")}
    assert inserted_after == {11}
    expected: list[tuple[str, Any]] = []  # ("same"|"answer"|"inserted", original or value)
    for index, paragraph in enumerate(before.paragraphs):
        ref = f"paragraph:{index}"
        expected.append(("answer", (paragraph, values[ref])) if ref in values
                        else ("same", paragraph))
        if index in inserted_after:
            expected.append(("inserted", values[f"after:{index}"]))
    assert len(after.paragraphs) == len(expected)
    for (kind, original), now in zip(expected, after.paragraphs, strict=True):
        if kind == "same":
            assert _xml(now._p) == _xml(original._p)
            assert (now.text, _style(now), _runs(now)) == (
                original.text, _style(original), _runs(original))
        elif kind == "answer":
            paragraph, value = original
            label = "Response: " if paragraph.text.startswith("Response:") else ""
            assert now.text == label + value
            assert _style(now) == _style(paragraph) == "DDQ Response"
            assert _xml(now._p.pPr) == _xml(paragraph._p.pPr)
        else:
            assert now.text == original
            assert _style(now) == "DDQ Response"
    body_before = [c.tag for c in before.element.body]
    body_after = [c.tag for c in after.element.body]
    assert len(body_after) == len(body_before) + len(inserted_after)
    assert _xml(after.element.body[-1]) == _xml(before.element.body[-1])  # section properties


@pytest.mark.integration
def test_only_answer_cells_change(answered: tuple[Path, Path, dict[str, str]]) -> None:
    src, dst, values = answered
    before, after = docx.Document(str(src)), docx.Document(str(dst))
    assert len(after.tables) == len(before.tables) == 2
    changed = 0
    for t, (old, new) in enumerate(zip(before.tables, after.tables, strict=True)):
        assert _xml(new._tbl.tblPr) == _xml(old._tbl.tblPr)
        assert _style(new) == _style(old)
        old_rows, new_rows = old._tbl.tr_lst, new._tbl.tr_lst
        assert len(new_rows) == len(old_rows)
        for r, (old_tr, new_tr) in enumerate(zip(old_rows, new_rows, strict=True)):
            old_cells, new_cells = old_tr.tc_lst, new_tr.tc_lst
            assert len(new_cells) == len(old_cells)
            for c, (old_tc, new_tc) in enumerate(zip(old_cells, new_cells, strict=True)):
                ref = f"table:{t}:{r}:{c}"
                if ref in values:
                    changed += 1
                    assert cell_text(new_tc) == values[ref]  # dropdown text included
                    assert _xml(new_tc.tcPr) == _xml(old_tc.tcPr)
                else:
                    assert _xml(new_tc) == _xml(old_tc), ref
    assert changed == sum(1 for ref in values if ref.startswith("table:"))


@pytest.mark.integration
def test_every_other_package_part_is_byte_identical(
        answered: tuple[Path, Path, dict[str, str]]) -> None:
    src, dst, _ = answered
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst) as new:
        assert new.namelist() == old.namelist()
        names = set(old.namelist())
        for part in ("word/media/image1.png", "word/header1.xml", "word/footer1.xml",
                     "word/styles.xml", "word/numbering.xml", "[Content_Types].xml",
                     "word/_rels/document.xml.rels", "docProps/core.xml"):
            assert part in names
        for name in names - {DOCUMENT_PART}:
            assert new.read(name) == old.read(name), name
        assert new.read(DOCUMENT_PART) != old.read(DOCUMENT_PART)


@pytest.mark.integration
def test_answered_copy_reads_back_with_its_answers(
        answered: tuple[Path, Path, dict[str, str]]) -> None:
    src, dst, values = answered
    original = {q.key: q for q in extract_docx(src).questions}
    reread = extract_docx(dst)
    assert [q.key for q in reread.questions] == list(original)
    for question in reread.questions:
        was = original[question.key]
        assert question.answer is not None and was.answer is not None
        assert question.answer.current == values[was.answer.ref], question.key
        if was.notes is not None:
            assert question.notes is not None
            assert question.notes.current == values[was.notes.ref]
    # The inserted answer paragraph is an answer place of its own now.
    assert [q.answer.ref for q in reread.questions if q.key == "2.1" and q.answer] == [
        "paragraph:12"]


def _pdf_text(path: Path, tmp_path: Path) -> str:
    """The text of ``path`` converted to PDF by LibreOffice (headless)."""
    office = shutil.which("libreoffice") or shutil.which("soffice")
    if office is None:
        pytest.fail("LibreOffice is not installed (no `libreoffice` on PATH); run "
                    "scripts/system-packages.sh to install the system packages")
    result = subprocess.run(
        [office, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo-profile",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
        capture_output=True, text=True, timeout=120, check=False)
    pdf = tmp_path / f"{path.stem}.pdf"
    assert result.returncode == 0, result.stderr
    assert pdf.is_file() and pdf.stat().st_size > 0, result.stdout + result.stderr
    from pypdf import PdfReader

    return " ".join(page.extract_text() for page in PdfReader(str(pdf)).pages)


@pytest.mark.integration
@pytest.mark.slow
def test_libreoffice_opens_the_answered_copy(
        answered: tuple[Path, Path, dict[str, str]], tmp_path: Path) -> None:
    _, dst, _ = answered
    text = _pdf_text(dst, tmp_path)
    assert "Answer 4.2 (answer)." in text and "Answer 3.5 (notes)." in text


@pytest.mark.integration
@pytest.mark.slow
def test_libreoffice_opens_a_copy_with_ticked_check_boxes(tmp_path: Path) -> None:
    src = make_docx(tmp_path, build_form, "boxes.docx")
    questions = extract_docx(src).questions
    values = {q.answer.ref: q.answer.allowed[-1] for q in questions if q.answer}
    values |= {q.notes.ref: f"Note {n}." for n, q in enumerate(questions) if q.notes}
    dst = tmp_path / "boxes-answered.docx"
    assert write_docx(src, dst, values) == 12
    text = _pdf_text(dst, tmp_path)
    assert all(f"Note {n}." in text for n in range(len(questions))), text
    # Every typed box and content control shows its state (the PDF text lists the box
    # characters apart from their labels): one ticked in each of the five groups.
    assert (text.count("☒"), text.count("☐")) == (5, 6), text


@pytest.mark.integration
def test_csv_round_trip_keeps_every_original_cell(tmp_path: Path) -> None:
    src = _require(INBOUND, "the shared Northwind data set is needed")
    extraction = extract_csv(src)
    values = _values(extraction)
    dst = tmp_path / "answered.csv"
    assert write_csv(src, dst, values) == 18
    with src.open(newline="", encoding="utf-8") as a, dst.open(newline="", encoding="utf-8") as b:
        before, after = list(csv.reader(a)), list(csv.reader(b))
    assert len(after) == len(before)
    assert after[0] == [*before[0], "Answer"]
    for question, old, new in zip(extraction.questions, before[1:], after[1:], strict=True):
        assert new[:-1] == old
        assert new[-1] == f"Answer {question.key} (answer).\nDone."
    reread = extract_csv(dst)
    assert [q.key for q in reread.questions] == [q.key for q in extraction.questions]


@pytest.mark.integration
def test_a_word_table_of_choice_columns_keeps_every_other_cell(tmp_path: Path) -> None:
    """"Yes | No | N/A" columns in a Word table: only the row's choice cells and comment
    change, every other part of the package is byte for byte the same, and LibreOffice
    renders the marks."""
    def build(document: Any) -> None:
        document.add_heading("Vendor questionnaire", level=1)
        table = document.add_table(rows=3, cols=5)
        table.style = "Table Grid"
        for row, texts in zip(table.rows, (["Question", "Yes", "No", "N/A", "Comments"],
                                           ["Is MFA enforced for administrators?", "", "X",
                                            "", "Okta"],
                                           ["Is data encrypted at rest?", "", "", "", ""]),
                              strict=True):
            for cell, text in zip(row.cells, texts, strict=True):
                cell.text = text

    src = make_docx(tmp_path, build, "choices.docx")
    mfa, encrypted = extract_docx(src).questions
    assert mfa.answer is not None and encrypted.answer is not None and encrypted.notes
    assert mfa.answer.current == "No"
    dst = tmp_path / "choices-answered.docx"
    write_docx(src, dst, {mfa.answer.ref: "Yes", encrypted.answer.ref: "Yes",
                          encrypted.notes.ref: "AES-256 at rest."})
    before, after = docx.Document(str(src)).tables[0], docx.Document(str(dst)).tables[0]
    changed = {(r, c) for r in range(3) for c in range(5)
               if before.cell(r, c).text != after.cell(r, c).text}
    assert changed == {(1, 1), (1, 2), (2, 1), (2, 4)}
    assert [after.cell(r, c).text for r, c in sorted(changed)] == ["X", "", "X",
                                                                   "AES-256 at rest."]
    for r in range(3):
        for c in range(5):
            assert _style(before.cell(r, c).paragraphs[0]) == _style(after.cell(r, c).paragraphs[0])
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst) as b:
        assert [i.filename for i in a.infolist()] == [i.filename for i in b.infolist()]
        assert {i.filename for i in a.infolist()
                if a.read(i) != b.read(i.filename)} == {"word/document.xml"}
    text = " ".join(_pdf_text(dst, tmp_path).split())
    assert "AES-256 at rest." in text and "X" in text
