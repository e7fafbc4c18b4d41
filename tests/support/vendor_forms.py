"""Reproductions of the questionnaire layouts vendors fill in, built by the tests themselves.

Each builder writes a BLANK form, or with ``answered=True`` the same form as a vendor
returned it (the choice place holds Yes/No/N/A, the notes column text, some rows left
unanswered), and returns an :class:`ExpectedForm`: the exact questions per sheet, the sheets
a reader must skip and why, and what each answer place holds. The layouts follow the public
descriptions of the forms; no vendor's file is copied, and the wordings are this project's
(``vendor_bank``).

- ``build_hecvat3(path, kind="full"|"lite")``: HECVAT 3.x. An introduction and an
  instruction sheet first; the "Vendor Response" sheet with instruction rows above the
  header, ids in the first column, question cells that are formulas (``=Questions!B5``, a
  hidden question-bank sheet) with saved values, a Yes/No/N/A dropdown stored as an x14 list
  referring to the hidden "Answer Lists" sheet, and an "Additional Information" column;
  "Analyst Report", "Analyst Reference" and "Summary Report" sheets that copy the questions
  (and answers) with formulas (``='Vendor Response'!B12``, the Summary Report from the Analyst
  Report); a hidden "Standards Crosswalk".

  The general-information rows (GNRL-xx: vendor name, product, contact, date) are counted as
  questions: they are places the vendor must fill in on every HECVAT, with the same answers
  each time (vendor, product, contact), and a form sent back with them empty is incomplete.
  They are answered as text, without a dropdown.
- ``build_hecvat4(path)``: HECVAT 4 (2025), Full, Lite and On-Prem in one workbook: a
  "Start Here" sheet whose routing questions (START-xx) decide which section sheets apply, a
  "Required" column whose formulas read those answers, one sheet per section, a "Summary"
  report sheet copying every section, and hidden "Scoring" and "Lists" sheets.
- ``build_caiq(path)``: CAIQ v4.0.x: title and version rows above the header, "Question ID",
  "Question", "CSP CAIQ Answer", "SSRM Control Ownership", "CSP Implementation Description",
  "CSC Responsibilities" and the CCM control columns.
- ``build_sig(path)``: SIG-style: an instruction tab, a dashboard of formulas, three domain
  tabs with "Ques Num" / "Question/Request" / "Response" / "Additional Information", a hidden
  list sheet.
- ``build_word_tables(path)``: a Word questionnaire whose answers go in table cells.

The overlap between forms, for answering one from another: ``hecvat_overlap()`` (HECVAT Full
→ Lite) and ``vendor_bank.CAIQ_TO_HECVAT``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import docx
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from support.vendor_bank import (
    CAIQ,
    CAIQ_TO_HECVAT,
    HECVAT,
    HECVAT4,
    SIG,
    TEXT,
    WORD,
    BankQuestion,
    Plain,
)
from support.xlsx_package import save_workbook, sqref

__all__ = ["CAIQ_TO_HECVAT", "Existing", "ExpectedForm", "Overlap", "build_caiq",
           "build_hecvat3", "build_hecvat4", "build_sig", "build_word_tables",
           "hecvat_overlap"]

HEADING = Font(bold=True)
GREY = PatternFill("solid", start_color="D9D9D9")
#: The fill of the places the vendor types into (so they exist as cells, blank or not).
INPUT = PatternFill("solid", start_color="FFF2CC")
REPORT = "report"  # a sheet that copies the questionnaire with formulas
HIDDEN = "hidden"
NO_QUESTIONS = "no questions"


@dataclass(frozen=True, slots=True)
class Existing:
    """What an answered form holds in a question's places (None: empty)."""

    answer: str | None = None
    notes: str | None = None


@dataclass(slots=True)
class ExpectedForm:
    path: Path
    #: Sheet (or "document") → the ids of its questions, in order.
    sheets: dict[str, list[str]]
    #: Sheet → why a reader skips it: "report", "hidden" or "no questions".
    skipped: dict[str, str]
    #: Report sheet → the sheet(s) its formulas copy.
    copies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: id → the question's wording in this form.
    texts: dict[str, str] = field(default_factory=dict)
    #: id → its section: the heading written above it (HECVAT 3.x, Word), its domain column
    #: (CAIQ's "CCM Domain Title"), or in the tabbed forms (SIG, HECVAT 4) its tab.
    sections: dict[str, str] = field(default_factory=dict)
    #: id → what its places hold; every id is here, Existing() when blank.
    answers: dict[str, Existing] = field(default_factory=dict)

    @property
    def ids(self) -> list[str]:
        return [qid for ids in self.sheets.values() for qid in ids]

    @property
    def answered(self) -> dict[str, Existing]:
        """The questions that hold an answer."""
        return {k: v for k, v in self.answers.items() if v.answer is not None}


@dataclass(frozen=True, slots=True)
class Overlap:
    """A HECVAT Lite question the Full also asks."""

    qid: str
    full_text: str
    lite_text: str
    full_answer: str | None
    lite_answer: str | None

    @property
    def reworded(self) -> bool:
        return self.full_text != self.lite_text

    @property
    def changed(self) -> bool:
        return self.full_answer != self.lite_answer


def hecvat_overlap(*, yes_no_only: bool = True) -> list[Overlap]:
    """The Lite questions the Full asks too, with both wordings and both answers."""
    return [Overlap(q.qid, q.full, q.lite, q.full_answer, q.lite_answer) for q in HECVAT
            if q.full is not None and q.lite is not None
            and (not yes_no_only or q.kind != TEXT)]


# --- helpers ---------------------------------------------------------------------------------


def _lines(sheet: Worksheet, lines: list[str], start: int = 1) -> None:
    for number, line in enumerate(lines, start=start):
        sheet.cell(row=number, column=1, value=line)
    sheet.cell(row=start, column=1).font = Font(bold=True, size=14)


def _header(sheet: Worksheet, row: int, names: list[str]) -> None:
    for column, name in enumerate(names, start=1):
        cell = sheet.cell(row=row, column=column, value=name)
        cell.font = HEADING
        cell.fill = GREY


def _inputs(sheet: Worksheet, row: int, values: dict[int, str | None]) -> None:
    """The vendor's places in a row: the input fill, and the value when answered."""
    for column, value in values.items():
        cell = sheet.cell(row=row, column=column, value=value)
        cell.fill = INPUT


def _list_sheet(workbook: Workbook, name: str, values: tuple[str, ...]) -> None:
    sheet = workbook.create_sheet(name)
    for number, value in enumerate(values, start=1):
        sheet.cell(row=number, column=1, value=value)
    sheet.sheet_state = "hidden"


def _copy(sheet: str, cell: str, may_be_empty: bool) -> str:
    """A formula showing another sheet's cell; "" for an empty one (a bare reference to an
    empty cell shows 0, so the forms wrap the places that may be empty)."""
    if may_be_empty:
        return f'=IF({sheet}!{cell}="","",{sheet}!{cell})'
    return f"={sheet}!{cell}"


def _quote(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


# --- HECVAT 3.x ------------------------------------------------------------------------------

VENDOR = "Vendor Response"
FIRST_QUESTION_ROW = 9


def _hecvat_rows(kind: str) -> list[tuple[str, BankQuestion | None]]:
    """("heading", None) and (wording, question) in sheet order from the header down."""
    rows: list[tuple[str, BankQuestion | None]] = []
    section = ""
    for q in HECVAT:
        text = q.full if kind == "full" else q.lite
        if text is None:
            continue
        if q.section != section:
            section = q.section
            rows.append((section, None))
        rows.append((text, q))
    return rows


def build_hecvat3(path: Path, kind: Literal["full", "lite"] = "full", *,
                  answered: bool = False) -> ExpectedForm:
    """A HECVAT 3.x Full or Lite workbook (see the module's docstring)."""
    if kind not in ("full", "lite"):
        raise ValueError(f"kind is 'full' or 'lite', not {kind!r}")
    title = f"HECVAT {kind.capitalize()}"
    workbook = Workbook()
    intro = workbook.active
    assert intro is not None
    intro.title = "Introduction"
    _lines(intro, [f"{title} 3.x (a reproduction for DDQ's tests)",
                   "This workbook introduces the Higher Education Community Vendor Assessment "
                   "Toolkit to the vendor.",
                   "It is shared by institutions to assess the security of hosted products."])
    _lines(workbook.create_sheet("Instructions"), [
        "Instructions",
        "Complete the Vendor Response sheet: pick Yes, No or N/A in the Vendor Answer column.",
        "Explain each answer in the Additional Information column.",
        "The analyst sheets are filled in by the institution; leave them alone."])
    vendor = workbook.create_sheet(VENDOR)
    bank = workbook.create_sheet("Questions")  # filled below, hidden
    cached: dict[tuple[str, str], str] = {}
    vendor.merge_cells("A1:D1")
    _lines(vendor, [f"{title} | Vendor Response",
                    "Version 3.x. Answer every question below.",
                    "Choose Yes, No or N/A in the Vendor Answer column for each row.",
                    "Rows shaded grey are section headings.",
                    "Use Additional Information to explain your answer or point to evidence.",
                    "Questions with no list are answered in words."])
    header_row = FIRST_QUESTION_ROW - 1
    _header(vendor, header_row, ["ID", "Question", "Vendor Answer", "Additional Information"])
    expected = ExpectedForm(path, {VENDOR: []}, {
        "Introduction": NO_QUESTIONS, "Instructions": NO_QUESTIONS,
        "Analyst Report": REPORT, "Analyst Reference": REPORT, "Summary Report": REPORT,
        "Standards Crosswalk": HIDDEN, "Questions": HIDDEN, "Answer Lists": HIDDEN},
        {"Analyst Report": (VENDOR,), "Analyst Reference": (VENDOR,),
         "Summary Report": ("Analyst Report",)})
    dropdown_cells: list[str] = []
    rows = _hecvat_rows(kind)
    for offset, (text, q) in enumerate(rows):
        row = FIRST_QUESTION_ROW + offset
        if q is None:
            vendor.merge_cells(start_row=row, start_column=1, end_row=row, end_column=4)
            cell = vendor.cell(row=row, column=1, value=text)
            cell.font, cell.fill = HEADING, GREY
            continue
        bank.cell(row=row, column=1, value=q.qid)
        bank.cell(row=row, column=2, value=text)
        vendor.cell(row=row, column=1, value=q.qid)
        vendor.cell(row=row, column=2, value=f"=Questions!B{row}")
        cached[(VENDOR, f"B{row}")] = text
        answer = q.full_answer if kind == "full" else q.lite_answer
        notes = q.lite_notes if kind == "lite" and q.lite_notes else q.notes
        if not answered or answer is None:
            answer = notes = None
        _inputs(vendor, row, {3: answer, 4: notes})
        if q.kind != TEXT:
            dropdown_cells.append(f"C{row}")
        expected.sheets[VENDOR].append(q.qid)
        expected.texts[q.qid] = text
        expected.sections[q.qid] = q.section
        expected.answers[q.qid] = Existing(answer, notes)
    last = FIRST_QUESTION_ROW + len(rows) - 1
    _hecvat_reports(workbook, rows, cached, expected)
    bank.sheet_state = "hidden"
    _list_sheet(workbook, "Answer Lists", ("Yes", "No", "N/A"))
    vendor.freeze_panes = f"A{FIRST_QUESTION_ROW}"
    vendor.auto_filter.ref = f"A{header_row}:D{last}"
    save_workbook(workbook, path, cached=cached, x14_lists={
        VENDOR: [("'Answer Lists'!$A$1:$A$3", sqref(dropdown_cells))]})
    return expected


def _hecvat_reports(workbook: Workbook, rows: list[tuple[str, BankQuestion | None]],
                    cached: dict[tuple[str, str], str], expected: ExpectedForm) -> None:
    """The analyst sheets and the hidden crosswalk: every cell a formula over the vendor's."""
    report = workbook.create_sheet("Analyst Report")
    reference = workbook.create_sheet("Analyst Reference")
    summary = workbook.create_sheet("Summary Report")
    crosswalk = workbook.create_sheet("Standards Crosswalk")
    _lines(report, ["Analyst Report", "Filled in by the institution's analyst."])
    _header(report, 3, ["ID", "Question", "Vendor Answer", "Additional Information",
                        "Analyst Notes", "Score"])
    _lines(reference, ["Analyst Reference"])
    _header(reference, 2, ["ID", "Question", "What to look for"])
    _lines(summary, ["Summary Report"])
    _header(summary, 2, ["ID", "Question", "Vendor Answer", "Score"])
    _header(crosswalk, 1, ["ID", "Question", "NIST SP 800-171", "ISO/IEC 27002:2022"])
    source = _quote(VENDOR)
    for offset, (text, q) in enumerate(rows):
        vendor_row = FIRST_QUESTION_ROW + offset
        held = expected.answers.get(q.qid, Existing()) if q else Existing()
        values = {"A": q.qid if q else text, "B": text if q else "",
                  "C": held.answer or "", "D": held.notes or ""}
        score = "1" if held.answer == "Yes" else "0"
        for sheet, row, letters in ((report, offset + 4, "ABCD"), (reference, offset + 3, "AB"),
                                    (crosswalk, offset + 2, "AB")):
            for letter in letters:
                if q is None and letter != "A":
                    continue
                sheet[f"{letter}{row}"] = _copy(source, f"{letter}{vendor_row}", letter in "CD")
                cached[(sheet.title, f"{letter}{row}")] = values[letter]
        if q is None:
            continue
        report[f"F{offset + 4}"] = f'=IF(C{offset + 4}="Yes",1,0)'
        cached[("Analyst Report", f"F{offset + 4}")] = score
        reference[f"C{offset + 3}"] = "Evidence that supports the answer, such as a policy."
        crosswalk[f"C{offset + 2}"] = "3.1.1" if q.kind != TEXT else ""
        for letter, value in (("A", q.qid), ("B", text), ("C", held.answer or "")):
            summary[f"{letter}{offset + 3}"] = _copy("'Analyst Report'", f"{letter}{offset + 4}",
                                                     letter == "C")
            cached[("Summary Report", f"{letter}{offset + 3}")] = value
        summary[f"D{offset + 3}"] = f"='Analyst Report'!F{offset + 4}"
        cached[("Summary Report", f"D{offset + 3}")] = score
    crosswalk.sheet_state = "hidden"


# --- HECVAT 4 --------------------------------------------------------------------------------

#: The section sheets of HECVAT 4 opened by a routing question: sheet → the Start Here row.
_ROUTED = {"On-Premises": "START-02", "Case-Specific": "START-03", "AI": "START-04"}


def build_hecvat4(path: Path, *, answered: bool = False) -> ExpectedForm:
    """HECVAT 4 (2025): Full, Lite and On-Prem in one workbook, routed from "Start Here"."""
    workbook = Workbook()
    workbook.remove(workbook.worksheets[0])
    cached: dict[tuple[str, str], str] = {}
    lists: dict[str, list[tuple[str, str]]] = {}
    expected = ExpectedForm(path, {}, {"Summary": REPORT, "Scoring": HIDDEN, "Lists": HIDDEN},
                            {"Summary": tuple(list(HECVAT4)[1:])})
    routing_rows: dict[str, int] = {}
    summary_rows: list[tuple[str, int, Plain]] = []
    for number, (name, questions) in enumerate(HECVAT4.items()):
        sheet = workbook.create_sheet(name)
        start = number == 0
        _lines(sheet, [f"HECVAT 4 | {name}",
                       "Answer the routing questions below; they decide which sections apply."
                       if start else "Answer each question that applies to your product.",
                       "Version 4.0 (a reproduction for DDQ's tests)."])
        header = ["ID", "Question", "Answer" if start else "Vendor Answer",
                  "Additional Information"] + ([] if start else ["Required"])
        _header(sheet, 5, header)
        dropdowns = []
        expected.sheets[name] = []
        for offset, (qid, text, answer, notes) in enumerate(questions):
            row = 6 + offset
            if not answered or answer is None:
                answer = notes = None
            sheet.cell(row=row, column=1, value=qid)
            sheet.cell(row=row, column=2, value=text)
            _inputs(sheet, row, {3: answer, 4: notes})
            if not qid.startswith("GNRL"):
                dropdowns.append(f"C{row}")
            if start:
                routing_rows[qid] = row
            else:
                summary_rows.append((name, row, (qid, text, answer, notes)))
                opener = _ROUTED.get(name)
                if opener is None:
                    sheet.cell(row=row, column=5, value="Required")
                else:
                    routing = f"'Start Here'!$C${routing_rows[opener]}"
                    sheet.cell(row=row, column=5,
                               value=f'=IF({routing}="Yes","Required","Not required")')
                    opened = expected.answers[opener].answer == "Yes"
                    cached[(name, f"E{row}")] = "Required" if opened else "Not required"
            expected.sheets[name].append(qid)
            expected.texts[qid] = text
            expected.sections[qid] = name
            expected.answers[qid] = Existing(answer, notes)
        lists[name] = [("Lists!$A$1:$A$3", sqref(dropdowns))]
    summary = workbook.create_sheet("Summary")
    _lines(summary, ["HECVAT 4 | Summary"])
    _header(summary, 2, ["ID", "Question", "Vendor Answer", "Section"])
    for offset, (name, row, (qid, text, answer, _)) in enumerate(summary_rows):
        for letter, value in (("A", qid), ("B", text), ("C", answer or "")):
            summary[f"{letter}{offset + 3}"] = _copy(_quote(name), f"{letter}{row}", letter == "C")
            cached[("Summary", f"{letter}{offset + 3}")] = value
        summary[f"D{offset + 3}"] = name
    scoring = workbook.create_sheet("Scoring")
    scoring["A1"] = "=COUNTIF(Summary!C3:C100,\"Yes\")"
    cached[("Scoring", "A1")] = str(sum(1 for _, _, plain in summary_rows if plain[2] == "Yes"))
    scoring.sheet_state = "hidden"
    _list_sheet(workbook, "Lists", ("Yes", "No", "N/A"))
    save_workbook(workbook, path, cached=cached, x14_lists=lists)
    return expected


# --- CAIQ v4.0.x -----------------------------------------------------------------------------

CAIQ_SHEET = "CAIQv4.0.3"
CAIQ_HEADER = ["Question ID", "Question", "CSP CAIQ Answer", "SSRM Control Ownership",
               "CSP Implementation Description (Optional/Recommended)",
               "CSC Responsibilities (Optional/Recommended)", "CCM Control ID",
               "CCM Control Specification", "CCM Control Title", "CCM Domain Title"]
SSRM = ("CSP-owned", "CSC-owned", "Third-party outsourced", "Shared CSP and CSC",
        "Shared CSP and 3rd-party")


def build_caiq(path: Path, *, answered: bool = False) -> ExpectedForm:
    """A CAIQ v4.0.x workbook: version rows over the header, the CCM columns beside."""
    workbook = Workbook()
    intro = workbook.active
    assert intro is not None
    intro.title = "Introduction"
    _lines(intro, ["Consensus Assessments Initiative Questionnaire (a reproduction)",
                   "The cloud service provider answers on the CAIQv4.0.3 sheet.",
                   "Shared responsibilities are stated in the SSRM columns."])
    sheet = workbook.create_sheet(CAIQ_SHEET)
    sheet.merge_cells("A1:J1")
    sheet["A1"] = "Consensus Assessments Initiative Questionnaire v4.0.3"
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"] = "CAIQ Version 4.0.3"
    _header(sheet, 3, CAIQ_HEADER)
    answer_list = DataValidation(type="list", formula1='"Yes,No,NA"', allow_blank=True)
    ownership = DataValidation(type="list", formula1=f'"{",".join(SSRM)}"', allow_blank=True)
    sheet.add_data_validation(answer_list)
    sheet.add_data_validation(ownership)
    expected = ExpectedForm(path, {CAIQ_SHEET: []}, {"Introduction": NO_QUESTIONS})
    for offset, q in enumerate(CAIQ):
        row = 4 + offset
        held = Existing(q.answer, q.description) if answered and q.answer else Existing()
        values = (q.qid, q.text, held.answer, q.ownership if held.answer else None,
                  held.notes, "None" if held.answer else None, q.control,
                  f"Keep the {q.control} control in place and review it every year.",
                  f"{q.domain} control {q.control}", q.domain)
        for column, value in enumerate(values, start=1):
            sheet.cell(row=row, column=column, value=value)
        _inputs(sheet, row, dict(enumerate(values[2:6], start=3)))
        answer_list.add(f"C{row}")
        ownership.add(f"D{row}")
        expected.sheets[CAIQ_SHEET].append(q.qid)
        expected.texts[q.qid] = q.text
        expected.sections[q.qid] = q.domain
        expected.answers[q.qid] = held
    save_workbook(workbook, path)
    return expected


# --- SIG-style -------------------------------------------------------------------------------


def build_sig(path: Path, *, answered: bool = False) -> ExpectedForm:
    """A SIG-style workbook: domain tabs with the same four columns."""
    workbook = Workbook()
    instructions = workbook.active
    assert instructions is not None
    instructions.title = "Instructions"
    _lines(instructions, ["Standardized information gathering (a reproduction)",
                          "Each tab holds the questions of one risk domain.",
                          "Pick a Response from the list and add detail where it helps."])
    dashboard = workbook.create_sheet("Dashboard")
    _header(dashboard, 1, ["Tab", "Questions", "Answered"])
    cached: dict[tuple[str, str], str] = {}
    expected = ExpectedForm(path, {}, {"Instructions": NO_QUESTIONS,
                                       "Dashboard": NO_QUESTIONS, "Lists": HIDDEN})
    for number, (name, questions) in enumerate(SIG.items(), start=2):
        sheet = workbook.create_sheet(name)
        _lines(sheet, [name, "Answer each question; explain in Additional Information."])
        _header(sheet, 4, ["Ques Num", "Question/Request", "Response",
                           "Additional Information"])
        responses = DataValidation(type="list", formula1="Lists!$A$1:$A$3", allow_blank=True)
        sheet.add_data_validation(responses)
        expected.sheets[name] = []
        for offset, (qid, text, answer, notes) in enumerate(questions):
            row = 5 + offset
            held = Existing(answer, notes) if answered and answer else Existing()
            sheet.cell(row=row, column=1, value=qid)
            sheet.cell(row=row, column=2, value=text)
            _inputs(sheet, row, {3: held.answer, 4: held.notes})
            responses.add(f"C{row}")
            expected.sheets[name].append(qid)
            expected.texts[qid] = text
            expected.sections[qid] = name
            expected.answers[qid] = held
        last = 4 + len(questions)
        dashboard.cell(row=number, column=1, value=name)
        dashboard.cell(row=number, column=2, value=f"=COUNTA({_quote(name)}!B5:B{last})")
        dashboard.cell(row=number, column=3, value=f"=COUNTA({_quote(name)}!C5:C{last})")
        cached[("Dashboard", f"B{number}")] = str(len(questions))
        cached[("Dashboard", f"C{number}")] = str(
            sum(1 for qid in expected.sheets[name] if expected.answers[qid].answer))
    _list_sheet(workbook, "Lists", ("Yes", "No", "N/A"))
    save_workbook(workbook, path, cached=cached)
    return expected


# --- Word ------------------------------------------------------------------------------------


def build_word_tables(path: Path, *, answered: bool = False) -> ExpectedForm:
    """A Word questionnaire: per section a table "No. | Question | Response | Comments"."""
    document = docx.Document()
    document.add_heading("Vendor Security Assessment", level=0)
    document.add_paragraph("Please answer every question in the Response column and add any "
                           "detail in the Comments column.")
    expected = ExpectedForm(path, {"document": []}, {})
    for section, questions in WORD.items():
        document.add_heading(section, level=1)
        table = document.add_table(rows=1 + len(questions), cols=4)
        table.style = "Table Grid"
        for column, name in enumerate(("No.", "Question", "Response", "Comments")):
            table.cell(0, column).text = name
        for number, (qid, text, answer, notes) in enumerate(questions, start=1):
            held = Existing(answer, notes) if answered and answer else Existing()
            for column, value in enumerate((qid, text, held.answer, held.notes)):
                table.cell(number, column).text = value or ""
            expected.sheets["document"].append(qid)
            expected.texts[qid] = text
            expected.sections[qid] = section
            expected.answers[qid] = held
    document.add_paragraph("Thank you for completing this questionnaire.")
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return expected
