"""Write the sample Word questionnaire, ``examples/questionnaires/harborline_investor_ddq.docx``.

An operational due-diligence questionnaire (in the style of the ILPA and AIMA templates) that
a fictional investor, Meridian Growth Partners, sends to Harborline Analytics, the fictional
maker of Tidewater whose knowledge base is ``examples/knowledge/``. Most questions are
answered there; three (assets under management, key-person insurance, litigation) are not,
so DDQ must say "Needs input" for them.

It holds every shape the DOCX reader handles: numbered question paragraphs with empty,
labelled ("Response:") and placeholder ("[Insert response]") answer paragraphs, one question
with no answer paragraph, automatically numbered questions (a list numbered "4.1", "4.2"),
a Yes/No table with dropdown content controls and section rows, and a Question/Response table.
It also has what an export must leave alone: a header, a footer, an image, bold and italic
runs, table styles. The output is byte for byte the same on every run:

    .venv/bin/python examples/make_sample_questionnaire_docx.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import struct
import zipfile
import zlib
from pathlib import Path

import docx
from docx.document import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from docx.shared import Inches, Pt, RGBColor
from docx.table import Table, _Cell

DEFAULT_OUTPUT = (Path(__file__).resolve().parent / "questionnaires"
                  / "harborline_investor_ddq.docx")
FIXED_TIME = dt.datetime(2025, 4, 1, 9, 0, 0)
ZIP_TIME = (2025, 4, 1, 9, 0, 0)
RESPONSE_STYLE = "DDQ Response"
AUTO_NUM_ID = 90  # the numbering instance of section 4 ("4.1", "4.2", ...)

# Section 1 and 2: numbered paragraphs. The answer place after each: "empty", "label"
# ("Response:"), "placeholder" ("[Insert response]") or "none" (the next question follows).
FIRM_OVERVIEW = [
    ("1.1", "Describe the firm's principal product and the clients it serves.", "empty"),
    ("1.2", "What were the firm's total assets under management (AUM) as of the most recent "
            "quarter end?", "empty"),
]
GOVERNANCE = [
    ("2.1", "Who is responsible for the information security program, and to whom does that "
            "person report?", "none"),
    ("2.2", "How often does the board receive reporting on information security?", "label"),
]
ASSURANCE = [
    ("2.3", "Does the firm hold a SOC 2 Type II report or an ISO 27001 certification? Please "
            "state the scope and the audit period.", "placeholder"),
    ("2.4", "How frequently is independent penetration testing performed, and is a summary "
            "of the results available to investors?", "empty"),
]
# Section 3: a Yes/No table; a one-element tuple is a section row merged across the table.
CYBER_ROWS: list[tuple[str, ...]] = [
    ("Identity and access",),
    ("3.1", "Is multi-factor authentication enforced for all employees and contractors?"),
    ("3.2", "Are user access rights to production systems reviewed at least quarterly?"),
    ("3.3", "Are background checks completed for all employees before they start?"),
    ("Data protection and awareness",),
    ("3.4", "Is client data encrypted at rest and in transit?"),
    ("3.5", "Are customer-managed encryption keys (BYOK) supported?"),
    ("3.6", "Do all staff complete security awareness training at least annually?"),
]
# Section 4: automatically numbered paragraphs (the list shows "4.1", "4.2", "4.3").
CONTINUITY = [
    "What are the recovery time objective (RTO) and recovery point objective (RPO) for the "
    "Tidewater platform?",
    "How often are backup restores tested and disaster recovery failover exercised?",
    "Describe the incident response process, including how quickly affected clients are "
    "notified of a data breach.",
]
# Section 5: a Question/Response table.
PRIVACY_ROWS = [
    ("5.1", "Where is client data stored and processed?"),
    ("5.2", "How long is client data retained after a contract ends, and how is it deleted?"),
    ("5.3", "Is client data used to train machine learning models?"),
    ("5.4", "How are third-party vendors and subprocessors assessed before and during the "
            "relationship?"),
]
LEGAL = [
    ("6.1", "Does the firm maintain key-person insurance on its founders or senior "
            "executives? If so, state the coverage amount.", "empty"),
    ("6.2", "Describe any litigation, regulatory investigation or enforcement action "
            "involving the firm or its principals in the last five years.", "empty"),
]


# --- a small logo, drawn without an image library -------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def logo_png(width: int = 96, height: int = 32) -> bytes:
    """A navy tile with a teal wave: Harborline's (invented) logo, as PNG bytes."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            wave = height // 2 + round(5 * ((x % 24) - 12) ** 2 / 144) - 3
            rows.extend((0, 150, 160) if abs(y - wave) <= 1 else (20, 40, 90))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + _png_chunk(b"IEND", b""))


# --- document parts ------------------------------------------------------------------------------


def _styles(document: Document) -> None:
    response = document.styles.add_style(RESPONSE_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    response.base_style = document.styles["Normal"]
    response.font.color.rgb = RGBColor(0x1F, 0x4E, 0x79)
    response.paragraph_format.left_indent = Inches(0.3)
    response.paragraph_format.space_after = Pt(10)
    placeholder = document.styles.add_style("Placeholder Text", WD_STYLE_TYPE.CHARACTER)
    placeholder.font.color.rgb = RGBColor(0x80, 0x80, 0x80)


def _auto_numbering(document: Document) -> None:
    """A single-level list whose items show as "4.1", "4.2", ... (section 4's questions)."""
    numbering = document.part.numbering_part.element
    abstract = parse_xml(
        f'<w:abstractNum {nsdecls("w")} w:abstractNumId="{AUTO_NUM_ID}">'
        '<w:multiLevelType w:val="singleLevel"/>'
        '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/>'
        '<w:lvlText w:val="4.%1"/><w:lvlJc w:val="left"/>'
        '<w:pPr><w:ind w:left="567" w:hanging="567"/></w:pPr><w:rPr><w:b/></w:rPr></w:lvl>'
        "</w:abstractNum>")
    first_num = numbering.find(f"{{{numbering.nsmap['w']}}}num")
    if first_num is not None:
        first_num.addprevious(abstract)
    else:
        numbering.append(abstract)
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="{AUTO_NUM_ID}">'
                               f'<w:abstractNumId w:val="{AUTO_NUM_ID}"/></w:num>'))


def _header_footer(document: Document) -> None:
    section = document.sections[0]
    header = section.header.paragraphs[0]
    header.text = "Harborline Analytics, Inc. \u2014 Operational Due Diligence Questionnaire"
    header.runs[0].italic = True
    footer = section.footer.paragraphs[0]
    footer.text = ("Confidential. Prepared for Meridian Growth Partners. Fictional sample "
                   "data: both firms are invented.")
    footer.runs[0].font.size = Pt(8)


def _intro(document: Document) -> None:
    document.add_heading("Operational Due Diligence Questionnaire", level=0)
    document.add_picture(io.BytesIO(logo_png()), width=Inches(1.0))
    intro = document.add_paragraph()
    intro.add_run("Respondent: ").bold = True
    intro.add_run("Harborline Analytics, Inc. (product: Tidewater). ")
    intro.add_run("Requested by: ").bold = True
    intro.add_run("Meridian Growth Partners, as part of its investment review.")
    guidance = document.add_paragraph()
    guidance.add_run("Please answer every question in the space provided below it. Where a "
                     "question does not apply, say so and explain why. ")
    guidance.add_run("All answers are treated as confidential.").italic = True


def _question(document: Document, number: str, text: str, answer: str) -> None:
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.keep_with_next = True
    paragraph.add_run(f"{number} ").bold = True
    paragraph.add_run(text)
    if answer == "none":
        return
    slot = document.add_paragraph(style=RESPONSE_STYLE)
    if answer == "label":
        slot.add_run("Response: ").bold = True
    elif answer == "placeholder":
        slot.add_run("[Insert response]").italic = True


def _numbered_question(document: Document, text: str) -> None:
    paragraph = document.add_paragraph(text)
    num_pr = paragraph._p.get_or_add_pPr().get_or_add_numPr()
    num_pr.get_or_add_ilvl().val = 0
    num_pr.get_or_add_numId().val = AUTO_NUM_ID
    document.add_paragraph(style=RESPONSE_STYLE)


def _dropdown(cell: _Cell) -> None:
    """A Yes/No/N/A dropdown content control, showing its placeholder."""
    items = "".join(f'<w:listItem w:displayText="{v}" w:value="{v}"/>'
                    for v in ("Yes", "No", "N/A"))
    sdt = parse_xml(
        f"<w:sdt {nsdecls('w')}><w:sdtPr><w:alias w:val=\"Yes/No\"/><w:showingPlcHdr/>"
        f"<w:dropDownList>{items}</w:dropDownList></w:sdtPr>"
        '<w:sdtContent><w:r><w:rPr><w:rStyle w:val="PlaceholderText"/></w:rPr>'
        "<w:t>Choose an item.</w:t></w:r></w:sdtContent></w:sdt>")
    cell.paragraphs[0]._p.append(sdt)


def _table(document: Document, headers: list[str], widths: list[float], style: str) -> Table:
    table = document.add_table(rows=1, cols=len(headers))
    table.style = document.styles[style]
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Inches(width)
    for cell, title, width in zip(table.rows[0].cells, headers, widths, strict=True):
        cell.paragraphs[0].add_run(title).bold = True
        cell.width = Inches(width)
    return table


def _cyber_table(document: Document) -> None:
    widths = [0.5, 3.6, 0.9, 1.9]
    table = _table(document, ["#", "Question", "Yes/No", "Comments"], widths,
                   "Light Grid Accent 1")
    for row_values in CYBER_ROWS:
        cells = table.add_row().cells
        for cell, width in zip(cells, widths, strict=True):
            cell.width = Inches(width)
        if len(row_values) == 1:
            merged = cells[0].merge(cells[-1])
            merged.paragraphs[0].add_run(row_values[0]).italic = True
            continue
        cells[0].text, cells[1].text = row_values
        _dropdown(cells[2])


def _privacy_table(document: Document) -> None:
    widths = [0.5, 3.0, 3.4]
    table = _table(document, ["#", "Question", "Response"], widths, "Table Grid")
    for number, question in PRIVACY_ROWS:
        cells = table.add_row().cells
        for cell, width in zip(cells, widths, strict=True):
            cell.width = Inches(width)
        cells[0].text, cells[1].text = number, question


def _core_properties(document: Document) -> None:
    props = document.core_properties
    props.title = "Operational Due Diligence Questionnaire: Harborline Analytics"
    props.subject = "Investor due diligence (fictional sample)"
    props.author = "Meridian Growth Partners"
    props.last_modified_by = "Meridian Growth Partners"
    props.keywords = "DDQ, operational due diligence, sample"
    props.comments = "Fictional sample questionnaire for DDQ."
    props.category = "Questionnaire"
    props.revision = 1
    props.created = FIXED_TIME
    props.modified = FIXED_TIME
    props.last_printed = FIXED_TIME


def build() -> Document:
    document = docx.Document()
    _styles(document)
    _auto_numbering(document)
    _header_footer(document)
    _core_properties(document)
    _intro(document)

    document.add_heading("Firm Overview", level=1)
    for number, text, answer in FIRM_OVERVIEW:
        _question(document, number, text, answer)

    document.add_heading("Governance and Compliance", level=1)
    document.add_heading("Security governance", level=2)
    for number, text, answer in GOVERNANCE:
        _question(document, number, text, answer)
    document.add_heading("Independent assurance", level=2)
    for number, text, answer in ASSURANCE:
        _question(document, number, text, answer)

    document.add_heading("Cybersecurity Controls", level=1)
    note = document.add_paragraph("Choose ")
    for word, joiner in (("Yes", ", "), ("No", " or "), ("N/A", "")):
        note.add_run(word).bold = True
        note.add_run(joiner)
    note.add_run(" in each row and add supporting comments where helpful.")
    _cyber_table(document)

    document.add_heading("Business Continuity and Incident Response", level=1)
    for text in CONTINUITY:
        _numbered_question(document, text)

    document.add_heading("Data Privacy and Third Parties", level=1)
    _privacy_table(document)

    document.add_heading("Insurance and Legal", level=1)
    for number, text, answer in LEGAL:
        _question(document, number, text, answer)

    closing = document.add_paragraph()
    closing.add_run("Thank you. ").bold = True
    closing.add_run("Return the completed questionnaire to ")
    closing.add_run("odd@meridian-growth.example").italic = True
    closing.add_run(".")
    return document


def deterministic_zip(data: bytes) -> bytes:
    """The same package with fixed entry dates, so every run writes the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, source.read(info))
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    buffer = io.BytesIO()
    build().save(buffer)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(deterministic_zip(buffer.getvalue()))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
