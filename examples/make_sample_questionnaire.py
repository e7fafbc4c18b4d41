"""Write the sample questionnaire, ``examples/questionnaires/harborline_vendor_security.xlsx``.

A fictional customer, Larkspur Retail Group, sends a vendor security questionnaire to
Harborline Analytics about its product Tidewater (both companies are invented; the knowledge
base in ``examples/knowledge/`` answers most of the questions, and a few on purpose not).

The workbook carries what real questionnaires carry and what a careless writer loses: a logo
image, a Yes/No/N/A dropdown stored in the x14 extension form that points at a hidden sheet,
ids computed by formulas with saved values, merged titles and section headings, conditional
formats, borders, fills and column widths. openpyxl builds the base; the parts it cannot write
(the image, the x14 dropdown, cached formula values) are added to the package XML afterwards.
The output is deterministic: fixed document dates and zip entry dates. Regenerate it with:

    .venv/bin/python examples/make_sample_questionnaire.py
"""

from __future__ import annotations

import argparse
import io
import re
import struct
import zipfile
import zlib
from datetime import datetime
from pathlib import Path

from lxml import etree
from openpyxl import Workbook
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.worksheet import Worksheet

DEFAULT_OUTPUT = (
    Path(__file__).resolve().parent / "questionnaires" / "harborline_vendor_security.xlsx"
)
SHEET = "Vendor Security"
FIXED_TIME = datetime(2025, 4, 1, 9, 0, 0)
ZIP_TIME = (2025, 4, 1, 9, 0, 0)

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
X14AC = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"
X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
XM = "http://schemas.microsoft.com/office/excel/2006/main"
X14_DV_URI = "{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}"

YES_NO = "yn"  # answered from the Yes / No / N/A dropdown, with comments beside it
TEXT = "text"  # a written answer in the Response cell, no dropdown

# (ref, question, kind, formula): a formula ref is written as a formula with a saved value.
Question = tuple[str, str, str, str | None]
SECTIONS: list[tuple[str, list[Question]]] = [
    (
        "1. Governance",
        [
            (
                "GOV-01",
                "Do you maintain a documented information security policy that is approved "
                "by senior management?",
                YES_NO,
                None,
            ),
            (
                "GOV-02",
                "Is the information security policy reviewed at least once a year?",
                YES_NO,
                None,
            ),
            (
                "GOV-03",
                "Do you have a current SOC 2 Type II report covering the service in scope?",
                YES_NO,
                '"GOV-"&"03"',
            ),
            ("GOV-04", "Is your organization certified to ISO/IEC 27001?", YES_NO, None),
            (
                "GOV-05",
                "Do all employees complete security awareness training at onboarding and "
                "at least annually?",
                YES_NO,
                None,
            ),
            (
                "GOV-06",
                "Are background checks performed on employees and contractors before they start?",
                YES_NO,
                None,
            ),
            (
                "GOV-07",
                "Is the service authorized under FedRAMP at the Moderate impact level?",
                YES_NO,
                None,
            ),
            (
                "GOV-08",
                "Do you hold a current PCI DSS Attestation of Compliance (AOC) as a service "
                "provider?",
                YES_NO,
                None,
            ),
        ],
    ),
    (
        "2. Access Control",
        [
            (
                "AC-01",
                "Is multi-factor authentication enforced for all employees and contractors?",
                YES_NO,
                None,
            ),
            (
                "AC-02",
                "Does the service support SAML 2.0 single sign-on for customer users?",
                YES_NO,
                None,
            ),
            (
                "AC-03",
                "How often are user access reviews performed for production systems?",
                TEXT,
                None,
            ),
            (
                "AC-04",
                "How quickly is access revoked when an employee leaves the company?",
                TEXT,
                '"AC-"&"04"',
            ),
            (
                "AC-05",
                "Is production access granted just in time, with approval, and does it "
                "expire automatically?",
                YES_NO,
                None,
            ),
            ("AC-06", "Are shared or generic user accounts prohibited for staff?", YES_NO, None),
        ],
    ),
    (
        "3. Encryption",
        [
            ("ENC-01", "Is customer data encrypted at rest, including backups?", YES_NO, None),
            ("ENC-02", "Which TLS versions are supported for data in transit?", TEXT, None),
            ("ENC-03", "Do you support customer-managed encryption keys (BYOK)?", YES_NO, None),
            ("ENC-04", "Are encryption keys rotated at least every 12 months?", YES_NO, None),
            (
                "ENC-05",
                "Are encryption keys protected by FIPS 140-2 validated hardware security modules?",
                YES_NO,
                None,
            ),
        ],
    ),
    (
        "4. Incident Response & Continuity",
        [
            (
                "IR-01",
                "Do you have a documented incident response plan that is tested at least annually?",
                YES_NO,
                None,
            ),
            (
                "IR-02",
                "Within what timeframe will you notify us of a security incident affecting "
                "our data?",
                TEXT,
                None,
            ),
            ("IR-03", "What is your RTO and RPO?", TEXT, None),
            ("IR-04", "Are backups encrypted and copied to a second region?", YES_NO, None),
            (
                "IR-05",
                "Describe how and how often your disaster recovery plan is tested.",
                TEXT,
                None,
            ),
            (
                "IR-06",
                "What is the coverage limit of your cyber liability insurance policy?",
                TEXT,
                None,
            ),
        ],
    ),
    (
        "5. Privacy & Data Retention",
        [
            ("PRV-01", "Where is customer data stored and processed?", TEXT, None),
            (
                "PRV-02",
                "Do you offer a Data Processing Agreement based on the EU Standard "
                "Contractual Clauses?",
                YES_NO,
                None,
            ),
            ("PRV-03", "Is customer data used to train machine learning models?", YES_NO, None),
            (
                "PRV-04",
                "How long is customer data retained after the contract ends, and how is it "
                "deleted?",
                TEXT,
                None,
            ),
            ("PRV-05", "Will you sign a HIPAA Business Associate Agreement (BAA)?", YES_NO, None),
            ("PRV-06", "Have you appointed a Data Protection Officer?", YES_NO, None),
        ],
    ),
]

#: The questions the sample knowledge base cannot answer: they should come back "needs input".
NOT_IN_KNOWLEDGE_BASE = ("GOV-07", "GOV-08", "IR-06", "PRV-05")

INSTRUCTIONS = [
    "Requested by: Larkspur Retail Group, Vendor Risk Management (fictional).",
    "Vendor: Harborline Analytics, Inc. (fictional). Service assessed: Tidewater.",
    "Complete every question on the Vendor Security sheet.",
    "Choose Yes, No or N/A from the dropdown in the Response column, and give supporting "
    "detail or evidence in the Comments / Evidence column.",
    "Questions without a dropdown need a short written answer in the Response column.",
    "Return the completed workbook to vendor-risk@larkspur.example by 30 June 2025.",
    "Fictional sample data: both companies are invented for the DDQ examples.",
]

NAVY = "1F3864"
PALE_BLUE = "D9E2F3"
PALE_GREY = "F2F2F2"
THIN = Side(style="thin", color="A6A6A6")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_ROW = 4
LOGO_PX = 48


# --- the logo: a small PNG written by hand (no imaging library needed) -----------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def logo_png(size: int = LOGO_PX) -> bytes:
    """A navy disc with a white wave: an RGBA PNG of ``size`` × ``size`` pixels."""
    centre = (size - 1) / 2
    rows = []
    for y in range(size):
        line = bytearray(b"\x00")  # filter type: none
        for x in range(size):
            inside = (x - centre) ** 2 + (y - centre) ** 2 <= (size / 2 - 1) ** 2
            wave = abs(y - (size * 0.55 + 3 * ((x % 12) - 6) ** 2 / 36 - 1.5)) < 2.2
            if not inside:
                line += b"\x00\x00\x00\x00"
            elif wave and size * 0.15 < x < size * 0.85:
                line += b"\xff\xff\xff\xff"
            else:
                line += bytes.fromhex(NAVY) + b"\xff"
        rows.append(bytes(line))
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + _png_chunk(b"IEND", b"")
    )


# --- the workbook, as far as openpyxl goes -----------------------------------------------------


def _instructions(sheet: Worksheet) -> None:
    sheet.merge_cells("A1:F1")
    title = sheet["A1"]
    title.value = "Vendor Security Questionnaire: Instructions"
    title.font = Font(bold=True, size=16, color="FFFFFF")
    title.fill = PatternFill("solid", start_color=NAVY)
    title.alignment = Alignment(vertical="center")
    sheet.row_dimensions[1].height = 30
    for number, line in enumerate(INSTRUCTIONS, start=3):
        cell = sheet.cell(row=number, column=1, value=line)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.column_dimensions["A"].width = 110
    for letter in "BCDEF":
        sheet.column_dimensions[letter].width = 4
    _fit_page_width(sheet)


def _fit_page_width(sheet: Worksheet) -> None:
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


def _title_rows(sheet: Worksheet) -> None:
    sheet.merge_cells("A1:D1")
    title = sheet["A1"]
    title.value = "Larkspur Retail Group: Vendor Security Questionnaire"
    title.font = Font(bold=True, size=14, color=NAVY)
    title.alignment = Alignment(horizontal="center", vertical="center")
    sheet.row_dimensions[1].height = 42
    sheet.merge_cells("A2:D2")
    subtitle = sheet["A2"]
    subtitle.value = "Vendor: Harborline Analytics, Inc.    Service: Tidewater    Form VSQ 2025.1"
    subtitle.font = Font(italic=True, color="595959")
    subtitle.alignment = Alignment(horizontal="center")
    for column, text in enumerate(("Ref", "Question", "Response", "Comments / Evidence"), 1):
        cell = sheet.cell(row=HEADER_ROW, column=column, value=text)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", start_color=NAVY)
        cell.border = BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for letter, width in zip("ABCD", (10, 70, 16, 60), strict=True):
        sheet.column_dimensions[letter].width = width


def _questions(sheet: Worksheet) -> list[int]:
    """Section headings and question rows; returns the rows whose Response is a dropdown."""
    row = HEADER_ROW + 1
    dropdown_rows = []
    for heading, questions in SECTIONS:
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=4)
        cell = sheet.cell(row=row, column=1, value=heading)
        cell.font = Font(bold=True, color=NAVY)
        cell.fill = PatternFill("solid", start_color=PALE_BLUE)
        cell.border = BOX
        row += 1
        for ref, text, kind, formula in questions:
            values = (f"={formula}" if formula else ref, text, None, None)
            for column, value in enumerate(values, start=1):
                cell = sheet.cell(row=row, column=column, value=value)
                cell.border = BOX
                cell.alignment = Alignment(
                    wrap_text=True,
                    vertical="top",
                    horizontal="center" if column in (1, 3) else None,
                )
            sheet.cell(row=row, column=3).fill = PatternFill(
                "solid", start_color="FFFFFF" if kind == YES_NO else PALE_GREY
            )
            if kind == YES_NO:
                dropdown_rows.append(row)
            row += 1
    sheet.merge_cells(start_row=row + 1, start_column=1, end_row=row + 1, end_column=4)
    footer = sheet.cell(row=row + 1, column=1, value="End of questionnaire. Thank you.")
    footer.font = Font(italic=True, color="595959")
    return dropdown_rows


def _vendor_sheet(sheet: Worksheet) -> list[int]:
    _title_rows(sheet)
    dropdown_rows = _questions(sheet)
    last = sheet.max_row - 2
    sheet.freeze_panes = f"A{HEADER_ROW + 1}"
    sheet.auto_filter.ref = f"A{HEADER_ROW}:D{last}"
    responses = f"C{HEADER_ROW + 1}:C{last}"
    sheet.conditional_formatting.add(
        responses,
        CellIsRule(operator="equal", formula=['"No"'], fill=PatternFill("solid", bgColor="F8CBAD")),
    )
    sheet.conditional_formatting.add(
        responses,
        CellIsRule(
            operator="equal", formula=['"Yes"'], fill=PatternFill("solid", bgColor="C6EFCE")
        ),
    )
    _fit_page_width(sheet)
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    return dropdown_rows


def build_base() -> tuple[bytes, list[int]]:
    workbook = Workbook()
    instructions = workbook.active
    assert instructions is not None
    instructions.title = "Instructions"
    _instructions(instructions)
    dropdown_rows = _vendor_sheet(workbook.create_sheet(SHEET))
    lists = workbook.create_sheet("Lists")
    for number, value in enumerate(("Yes", "No", "N/A"), start=1):
        lists.cell(row=number, column=1, value=value)
    lists.sheet_state = "hidden"
    props = workbook.properties
    props.title = "Vendor Security Questionnaire (fictional sample)"
    props.creator = "Larkspur Retail Group Vendor Risk (fictional)"
    props.created = props.modified = FIXED_TIME
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), dropdown_rows


# --- what openpyxl cannot write: added to the package XML --------------------------------------


def _sqref(rows: list[int], column: str) -> str:
    """Consecutive rows folded into ranges: "C6:C13 C15:C16 ..."."""
    pieces = []
    start = previous = rows[0]
    for row in [*rows[1:], None]:
        if row is not None and row == previous + 1:
            previous = row
            continue
        pieces.append(
            f"{column}{start}" if start == previous else f"{column}{start}:{column}{previous}"
        )
        if row is not None:
            start = previous = row
    return " ".join(pieces)


def _x14_dropdown(rows: list[int]) -> etree._Element:
    ext_list = etree.Element(f"{{{MAIN}}}extLst")
    ext = etree.SubElement(ext_list, f"{{{MAIN}}}ext", nsmap={"x14": X14})
    ext.set("uri", X14_DV_URI)
    validations = etree.SubElement(ext, f"{{{X14}}}dataValidations", nsmap={"xm": XM})
    validations.set("count", "1")
    validation = etree.SubElement(validations, f"{{{X14}}}dataValidation")
    for name, value in (
        ("type", "list"),
        ("allowBlank", "1"),
        ("showInputMessage", "1"),
        ("showErrorMessage", "1"),
        ("promptTitle", "Response"),
        ("prompt", "Choose Yes, No or N/A"),
    ):
        validation.set(name, value)
    formula = etree.SubElement(validation, f"{{{X14}}}formula1")
    etree.SubElement(formula, f"{{{XM}}}f").text = "Lists!$A$1:$A$3"
    etree.SubElement(validation, f"{{{XM}}}sqref").text = _sqref(rows, "C")
    return ext_list


def _cached_values(root: etree._Element) -> None:
    """Give each formula ref its saved value, as Excel would have stored it."""
    for cell in root.iter(f"{{{MAIN}}}c"):
        formula = cell.find(f"{{{MAIN}}}f")
        if formula is None or formula.text is None:
            continue
        value = cell.find(f"{{{MAIN}}}v")
        if value is None:
            value = etree.SubElement(cell, f"{{{MAIN}}}v")
        value.text = "".join(re.findall(r'"([^"]*)"', formula.text))
        cell.set("t", "str")


def patch_vendor_sheet(data: bytes, dropdown_rows: list[int]) -> bytes:
    old = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    root = etree.Element(
        f"{{{MAIN}}}worksheet", nsmap={None: MAIN, "r": REL, "mc": MC, "x14ac": X14AC}
    )
    root.set(f"{{{MC}}}Ignorable", "x14ac")
    root.extend(list(old))
    _cached_values(root)
    drawing = etree.Element(f"{{{MAIN}}}drawing")
    drawing.set(f"{{{REL}}}id", "rId1")
    before = {
        "legacyDrawing",
        "legacyDrawingHF",
        "picture",
        "oleObjects",
        "controls",
        "webPublishItems",
        "tableParts",
        "extLst",
    }
    anchor = next((c for c in root if etree.QName(c).localname in before), None)
    if anchor is None:
        root.append(drawing)
    else:
        anchor.addprevious(drawing)
    root.append(_x14_dropdown(dropdown_rows))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))


DRAWING = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" \
xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">\
<xdr:oneCellAnchor><xdr:from><xdr:col>0</xdr:col><xdr:colOff>57150</xdr:colOff><xdr:row>0\
</xdr:row><xdr:rowOff>57150</xdr:rowOff></xdr:from><xdr:ext cx="{LOGO_PX * 9525}" \
cy="{LOGO_PX * 9525}"/><xdr:pic><xdr:nvPicPr><xdr:cNvPr id="2" name="Larkspur logo" \
descr="Larkspur Retail Group logo (fictional)"/><xdr:cNvPicPr><a:picLocks noChangeAspect="1"/>\
</xdr:cNvPicPr></xdr:nvPicPr><xdr:blipFill><a:blip xmlns:r="{REL}" r:embed="rId1"/><a:stretch>\
<a:fillRect/></a:stretch></xdr:blipFill><xdr:spPr><a:xfrm><a:off x="0" y="0"/><a:ext \
cx="{LOGO_PX * 9525}" cy="{LOGO_PX * 9525}"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/>\
</a:prstGeom></xdr:spPr></xdr:pic><xdr:clientData/></xdr:oneCellAnchor></xdr:wsDr>"""


def _rels(rid: str, kind: str, target: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="{rid}" Type="{REL}/{kind}" Target="{target}"/></Relationships>'
    ).encode()


def _content_types(data: bytes) -> bytes:
    text = data.decode("utf-8")
    text = text.replace(
        '<Default Extension="xml"',
        '<Default Extension="png" ContentType="image/png"/><Default Extension="xml"',
        1,
    )
    drawing = (
        '<Override PartName="/xl/drawings/drawing1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.drawing+xml"/>'
    )
    return text.replace("</Types>", drawing + "</Types>").encode("utf-8")


def _core(data: bytes) -> bytes:
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    text = re.sub(
        r"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rf"\g<1>{stamp}", data.decode("utf-8")
    )
    return text.encode("utf-8")


def _vendor_part(package: zipfile.ZipFile) -> str:
    """The worksheet part of the Vendor Security sheet (openpyxl numbers them in order)."""
    names = re.findall(r'<sheet [^>]*name="([^"]+)"', package.read("xl/workbook.xml").decode())
    return f"xl/worksheets/sheet{names.index(SHEET) + 1}.xml"


def build(output: Path) -> int:
    """Write the workbook to ``output``; returns the number of questions in it."""
    base, dropdown_rows = build_base()
    with zipfile.ZipFile(io.BytesIO(base)) as package:
        vendor = _vendor_part(package)
        entries: list[tuple[str, bytes]] = []
        for name in package.namelist():
            data = package.read(name)
            if name == vendor:
                data = patch_vendor_sheet(data, dropdown_rows)
            elif name == "[Content_Types].xml":
                data = _content_types(data)
            elif name == "docProps/core.xml":
                data = _core(data)
            entries.append((name, data))
            if name == vendor:
                rels = vendor.replace("worksheets/", "worksheets/_rels/") + ".rels"
                entries += [
                    (rels, _rels("rId1", "drawing", "../drawings/drawing1.xml")),
                    ("xl/drawings/drawing1.xml", DRAWING.encode("utf-8")),
                    (
                        "xl/drawings/_rels/drawing1.xml.rels",
                        _rels("rId1", "image", "../media/image1.png"),
                    ),
                    ("xl/media/image1.png", logo_png()),
                ]
    output.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for name, data in entries:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = (
                zipfile.ZIP_STORED if name.endswith(".png") else (zipfile.ZIP_DEFLATED)
            )
            info.create_system = 0
            info.external_attr = 0
            out.writestr(info, data)
    output.write_bytes(buffer.getvalue())
    return sum(len(questions) for _, questions in SECTIONS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"where to write the workbook (default: {DEFAULT_OUTPUT.name})",
    )
    args = parser.parse_args()
    count = build(args.output)
    print(f"wrote {count} questions to {args.output}")


if __name__ == "__main__":
    main()
