"""The fidelity of an export: only the answer cells change, and Excel-only parts survive.

A questionnaire is blanked (every answer place written with ""), then answered into a copy
of the blank file. The two are compared cell by cell with openpyxl (values and every style
attribute, sizes, merges, validations, sheet order and state) and part by part in the zip
package, and the exports are opened by LibreOffice.
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from pypdf import PdfReader

from ddq.forms import Extraction, neutralise
from ddq.questionnaire.formats.xlsx.reading import extract_xlsx
from ddq.questionnaire.formats.xlsx.writing import write_xlsx

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "questionnaires" / "harborline_vendor_security.xlsx"
NORTHWIND = (
    ROOT.parent
    / "shared"
    / "data"
    / "northwind"
    / "questionnaires"
    / "Security_Questionnaire_Northwind_AI.xlsx"
)
X14_DV_URI = "{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
LONG_TEXT = (
    "Yes. Access to production is granted just in time, approved by a second engineer and "
    "expires after at most four hours; every session is recorded by the bastion service.\n"
    "Evidence: Access Control Policy v2.4, section 'Production access'. " * 8
)
TRICKY = (
    '=HYPERLINK("http://attacker.example","click")',
    "+44 20 7946 0000",
    "-1 day",
    "@risk",
    "  leading and trailing spaces  ",
    "ünïcödé ✓ 中文",
)


def northwind() -> Path:
    if not NORTHWIND.is_file():
        pytest.fail(f"the shared Northwind questionnaire is missing: {NORTHWIND}")
    return NORTHWIND


def answers_for(extraction: Extraction) -> dict[str, str]:
    """Dropdown values, long text and formula-like text, spread over the answer places."""
    values: dict[str, str] = {}
    for number, question in enumerate(extraction.questions):
        answer, notes = question.answer, question.notes
        assert answer is not None
        if answer.allowed:
            values[answer.ref] = answer.allowed[number % len(answer.allowed)]
        else:
            values[answer.ref] = ("Yes", "No", LONG_TEXT, TRICKY[number % len(TRICKY)])[number % 4]
        if notes is not None:
            values[notes.ref] = TRICKY[number % len(TRICKY)] if number % 3 else LONG_TEXT
    return values


def blank_then_answer(source: Path, tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    extraction = extract_xlsx(source)
    blank = tmp_path / "blank.xlsx"
    places = {t.ref: "" for q in extraction.questions for t in q.targets}
    assert write_xlsx(source, blank, places) == len(places)
    blank_extraction = extract_xlsx(blank)
    assert all(t.current is None for q in blank_extraction.questions for t in q.targets)
    answered = tmp_path / "answered.xlsx"
    values = answers_for(blank_extraction)
    assert write_xlsx(blank, answered, values) == len(values)
    return blank, answered, values


# --- comparing workbooks -----------------------------------------------------------------------

STYLE_ATTRIBUTES = ("font", "fill", "border", "alignment", "number_format", "protection")


def _style(cell: Any, attribute: str) -> Any:
    """The style object itself: openpyxl hands out proxies that never compare equal."""
    value = getattr(cell, attribute)
    return value.copy() if attribute != "number_format" else value


def _cell_map(sheet: Worksheet) -> dict[tuple[int, int], Any]:
    return dict(sheet._cells)  # every cell element the file has, styled or not


def _split(ref: str) -> tuple[str, str]:
    sheet, _, cell = ref.rpartition("!")
    return sheet, cell


def compare_workbooks(before: Path, after: Path, written: dict[str, str]) -> None:
    """Everything equal except the written cells, which hold exactly the (neutralised) text."""
    old, new = load_workbook(before), load_workbook(after)
    assert old.sheetnames == new.sheetnames
    expected = {_split(ref): neutralise(text) if text else None for ref, text in written.items()}
    for name in old.sheetnames:
        a, b = old[name], new[name]
        assert type(a) is type(b)
        assert a.sheet_state == b.sheet_state, name
        if not isinstance(a, Worksheet) or not isinstance(b, Worksheet):
            continue
        cells_a, cells_b = _cell_map(a), _cell_map(b)
        for key in sorted(set(cells_a) | set(cells_b)):
            ca, cb = a.cell(*key), b.cell(*key)
            for attribute in STYLE_ATTRIBUTES:
                assert _style(ca, attribute) == _style(cb, attribute), (name, key, attribute)
            place = (name, cb.coordinate)
            if place in expected:
                assert cb.value == expected[place], place
                assert expected[place] is None or cb.data_type == "s", place
            else:
                assert ca.value == cb.value, place
        assert {k: (d.width, d.hidden, d.customWidth) for k, d in a.column_dimensions.items()} == {
            k: (d.width, d.hidden, d.customWidth) for k, d in b.column_dimensions.items()
        }
        assert {k: (d.height, d.hidden) for k, d in a.row_dimensions.items()} == {
            k: (d.height, d.hidden) for k, d in b.row_dimensions.items()
        }
        assert sorted(map(str, a.merged_cells.ranges)) == sorted(map(str, b.merged_cells.ranges))
        assert [(v.type, v.formula1, str(v.sqref)) for v in a.data_validations.dataValidation] == [
            (v.type, v.formula1, str(v.sqref)) for v in b.data_validations.dataValidation
        ]
        assert [
            (str(c.sqref), [(r.type, r.formula) for r in c.rules]) for c in a.conditional_formatting
        ] == [
            (str(c.sqref), [(r.type, r.formula) for r in c.rules]) for c in b.conditional_formatting
        ]
        assert a.freeze_panes == b.freeze_panes
        assert a.auto_filter.ref == b.auto_filter.ref
    missing = {place for place in expected if place[0] not in new.sheetnames}
    assert not missing


def compare_packages(before: Path, after: Path, edited: set[str], *,
                     provenance: bool = False) -> None:
    """Same entries, order, names and compression; every part but the edited ones identical.
    With ``provenance`` the export also carries DDQ's provenance record: its customXml parts
    after every other entry, registered by one element more in [Content_Types].xml and the
    workbook's rels (tests/integration/test_provenance.py checks those bytes)."""
    if provenance:
        edited = edited | {"[Content_Types].xml", "xl/_rels/workbook.xml.rels"}
    with zipfile.ZipFile(before) as a, zipfile.ZipFile(after) as b:
        infos_a, infos_b = a.infolist(), b.infolist()
        if provenance:
            record = [i.filename for i in infos_b if i.filename.startswith("customXml/")]
            assert record == [i.filename for i in infos_b[len(infos_a):]] and len(record) == 3
            infos_b = infos_b[: len(infos_a)]
        assert [(i.filename, i.compress_type, i.date_time) for i in infos_a] == [
            (i.filename, i.compress_type, i.date_time) for i in infos_b
        ]
        changed = {i.filename for i in infos_a if a.read(i) != b.read(i.filename)}
    assert changed == edited


def _c14n(element: Any) -> bytes:
    return bytes(etree.tostring(element, method="c14n"))


def compare_sheet_xml(before: bytes, after: bytes, written: set[str]) -> None:
    """In the edited worksheet XML, everything but the written cells is canonically the same:
    the other top-level elements, every row's attributes, and every other cell."""
    old, new = etree.fromstring(before), etree.fromstring(after)
    assert old.nsmap == new.nsmap and dict(old.attrib) == dict(new.attrib)
    assert [c.tag for c in old] == [c.tag for c in new]
    for a, b in zip(old, new, strict=True):
        if etree.QName(a).localname not in ("sheetData", "dimension"):
            assert _c14n(a) == _c14n(b), a.tag
    rows_a = {r.get("r"): r for r in old.iter(f"{{{MAIN}}}row")}
    rows_b = {r.get("r"): r for r in new.iter(f"{{{MAIN}}}row")}
    assert rows_a.keys() == rows_b.keys()
    for number, row in rows_a.items():
        assert dict(row.attrib) == dict(rows_b[number].attrib)
        cells_a = {c.get("r"): c for c in row}
        cells_b = {c.get("r"): c for c in rows_b[number]}
        assert cells_a.keys() == cells_b.keys()
        for ref, cell in cells_a.items():
            if ref in written:
                assert cell.get("s") == cells_b[ref].get("s"), ref
            else:
                assert _c14n(cell) == _c14n(cells_b[ref]), ref


def sheet_part(path: Path, index: int) -> bytes:
    with zipfile.ZipFile(path) as package:
        return package.read(f"xl/worksheets/sheet{index}.xml")


# --- the tests -------------------------------------------------------------------------------


@pytest.mark.integration
def test_northwind_roundtrip_changes_only_answer_cells(tmp_path: Path) -> None:
    source = northwind()
    blank, answered, values = blank_then_answer(source, tmp_path)
    extraction = extract_xlsx(source)
    originals = {t.ref: "" for q in extraction.questions for t in q.targets}
    compare_workbooks(source, blank, originals)
    compare_workbooks(blank, answered, values)
    compare_packages(source, blank, {"xl/worksheets/sheet2.xml"})
    compare_packages(blank, answered, {"xl/worksheets/sheet2.xml"})
    compare_sheet_xml(
        sheet_part(source, 2), sheet_part(blank, 2), {_split(r)[1] for r in originals}
    )
    compare_sheet_xml(sheet_part(blank, 2), sheet_part(answered, 2), {_split(r)[1] for r in values})
    again = extract_xlsx(answered)
    assert [q.key for q in again.questions] == [q.key for q in extraction.questions]


@pytest.mark.integration
@pytest.mark.filterwarnings("ignore:Data Validation extension is not supported")
def test_sample_roundtrip_keeps_x14_dropdown_image_and_hidden_sheet(tmp_path: Path) -> None:
    blank, answered, values = blank_then_answer(SAMPLE, tmp_path)
    compare_workbooks(blank, answered, values)
    compare_packages(SAMPLE, blank, {"xl/worksheets/sheet2.xml"})
    compare_packages(blank, answered, {"xl/worksheets/sheet2.xml"})
    compare_sheet_xml(
        sheet_part(SAMPLE, 2), sheet_part(answered, 2), {_split(r)[1] for r in values}
    )

    def x14(data: bytes) -> bytes:
        root = etree.fromstring(data)
        ext = root.find(f"{{{MAIN}}}extLst/{{{MAIN}}}ext[@uri='{X14_DV_URI}']")
        assert ext is not None, "the x14 dataValidations extension is gone"
        return bytes(etree.tostring(ext, method="c14n"))

    assert x14(sheet_part(answered, 2)) == x14(sheet_part(SAMPLE, 2))
    with zipfile.ZipFile(SAMPLE) as a, zipfile.ZipFile(answered) as b:
        for part in (
            "xl/media/image1.png",
            "xl/drawings/drawing1.xml",
            "xl/drawings/_rels/drawing1.xml.rels",
            "xl/worksheets/_rels/sheet2.xml.rels",
            "xl/workbook.xml",
            "xl/worksheets/sheet3.xml",
        ):
            assert a.read(part) == b.read(part), part
    root = etree.fromstring(sheet_part(answered, 2))
    assert root.find(f"{{{MAIN}}}drawing") is not None
    lists = load_workbook(answered)["Lists"]
    assert lists.sheet_state == "hidden"
    # formula refs keep their formulas and their saved values
    assert b'<f>"GOV-"&amp;"03"</f><v>GOV-03</v>' in sheet_part(answered, 2)
    again = extract_xlsx(answered)
    assert [q.qid for q in again.questions][:3] == ["GOV-01", "GOV-02", "GOV-03"]
    assert all(
        q.answer and q.answer.current == neutralise(values[q.answer.ref]) for q in again.questions
    )


def _libreoffice() -> str:
    found = shutil.which("libreoffice") or shutil.which("soffice")
    if found is None:
        pytest.fail(
            "LibreOffice is not installed (no 'libreoffice' on PATH); run "
            "scripts/system-packages.sh to install the system packages the tests need"
        )
    return found


@pytest.mark.integration
@pytest.mark.filterwarnings("ignore:Data Validation extension is not supported")
def test_exports_open_in_libreoffice(tmp_path: Path) -> None:
    office = _libreoffice()
    exports = []
    for name, source in (("sample", SAMPLE), ("northwind", northwind())):
        folder = tmp_path / name
        folder.mkdir()
        _, answered, _ = blank_then_answer(source, folder)
        exports.append(answered.rename(tmp_path / f"{name}-answered.xlsx"))
    pdfs = tmp_path / "pdf"
    result = subprocess.run(
        [
            office,
            f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(pdfs),
            *map(str, exports),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for export in exports:
        pdf = pdfs / f"{export.stem}.pdf"
        assert pdf.is_file() and pdf.stat().st_size > 0, (result.stdout, result.stderr)
        text = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
        assert "leading and trailing spaces" in " ".join(text.split()), export.name


@pytest.mark.integration
def test_the_answer_job_and_export_change_only_answer_cells(tmp_path: Path, kb: Any) -> None:
    """The product path: `ddq answer` + `ddq export` on the blanked Northwind questionnaire
    (with the FAKE embedder: what is answered does not matter here, where it goes does)."""
    from ddq.jobs.export import export_answers
    from ddq.jobs.job import QuestionnaireJob

    source = northwind()
    extraction = extract_xlsx(source)
    blank = tmp_path / "blank.xlsx"
    write_xlsx(source, blank, {t.ref: "" for q in extraction.questions for t in q.targets})
    kb.ingest_paths([ROOT / "examples" / "knowledge"])
    job = QuestionnaireJob(kb, batch_size=16)
    info, created = job.open(blank)
    assert created and info.question_count == 108
    result = job.run(info)
    assert result.progress.done == 108
    out = tmp_path / "out" / "answered.xlsx"
    exported = export_answers(job.store, result.questionnaire, out, provenance_key=b"k" * 32)
    written = {ref: value for draft in job.store.drafts(info.id).values()
               for ref, value in draft.fill.items()}
    assert exported.written == len(written) > 0
    compare_workbooks(blank, out, written)
    compare_packages(blank, out, {"xl/worksheets/sheet2.xml"}, provenance=True)
    compare_sheet_xml(sheet_part(blank, 2), sheet_part(out, 2), {_split(r)[1] for r in written})
    # Dropdown-less Yes/No column: only Yes/No/N/A ever lands in it.
    responses = {v for r, v in written.items() if _split(r)[1].startswith("D")}
    assert responses <= {"Yes", "No", "N/A"}


@pytest.mark.integration
def test_a_form_with_yes_no_columns_to_mark_round_trips(tmp_path: Path) -> None:
    """An X under Yes, No or N/A: only the row's choice cells and its comment change, and
    LibreOffice reads the marks back in the right columns."""
    from openpyxl import Workbook
    from openpyxl.styles import Border, PatternFill, Side

    form = Workbook()
    sheet = form.active
    assert sheet is not None
    sheet.title = "Vendor"
    sheet.append(["Mark X in one column"])
    sheet.append(["Ref", "Question", "Yes", "No", "N/A", "Comments"])
    sheet.append(["1", "Access control"])
    sheet.append(["1.1", "Is MFA enforced for administrators?", None, "X", None, None])
    sheet.append(["1.2", "Are shared accounts prohibited?", None, None, None, None])
    sheet.merge_cells("A1:F1")
    thin = Side(style="thin")
    for row in sheet.iter_rows(min_row=4, max_row=5, min_col=3, max_col=5):
        for cell in row:
            cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
            cell.fill = PatternFill("solid", fgColor="FFF2CC")
    sheet.column_dimensions["B"].width = 48
    source = tmp_path / "marks.xlsx"
    form.save(source)

    extraction = extract_xlsx(source)
    assert [(q.qid, q.answer.ref if q.answer else None, q.answer.current if q.answer else None)
            for q in extraction.questions] == [("1.1", "Vendor!C4:E4", "No"),
                                              ("1.2", "Vendor!C5:E5", None)]
    answered = tmp_path / "answered.xlsx"
    write_xlsx(source, answered, {"Vendor!C4:E4": "Yes", "Vendor!C5:E5": "Yes",
                                  "Vendor!F5": "Users never share accounts."})
    compare_workbooks(source, answered, {"Vendor!C4": "X", "Vendor!D4": "", "Vendor!C5": "X",
                                         "Vendor!F5": "Users never share accounts."})
    compare_packages(source, answered, {"xl/worksheets/sheet1.xml"})

    office = _libreoffice()
    result = subprocess.run(
        [office, f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}", "--headless",
         "--convert-to", "csv", "--outdir", str(tmp_path / "csv"), str(answered)],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    rows = (tmp_path / "csv" / "answered.csv").read_text(encoding="utf-8").splitlines()
    assert rows[3:5] == ["1.1,Is MFA enforced for administrators?,X,,,",
                         "1.2,Are shared accounts prohibited?,X,,,Users never share accounts."]
