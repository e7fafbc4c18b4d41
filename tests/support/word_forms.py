"""Word questionnaires written on the spot for tests: ``make_docx`` saves whatever a build
function puts into a new document; ``build_form`` is a form with every kind of check box
DDQ reads (typed box characters, Word 2010 check box content controls, legacy FORMCHECKBOX
fields) in paragraphs and table cells, with labels after and before the boxes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import docx
from docx.document import Document
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls

W14 = 'xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml"'


def make_docx(tmp_path: Path, build: Callable[[Document], None], name: str = "q.docx") -> Path:
    document = docx.Document()
    build(document)
    path = tmp_path / name
    document.save(str(path))
    return path


def control_box(paragraph: object, label: str, *, checked: bool = False) -> None:
    """A Word 2010 check box content control and its label after it."""
    p = paragraph._p  # type: ignore[attr-defined]
    p.append(parse_xml(
        f"<w:sdt {nsdecls('w')} {W14}><w:sdtPr><w14:checkbox>"
        f'<w14:checked w14:val="{int(checked)}"/>'
        '<w14:checkedState w14:val="2612" w14:font="MS Gothic"/>'
        '<w14:uncheckedState w14:val="2610" w14:font="MS Gothic"/>'
        "</w14:checkbox></w:sdtPr><w:sdtContent><w:r><w:rPr>"
        '<w:rFonts w:ascii="MS Gothic" w:eastAsia="MS Gothic" w:hAnsi="MS Gothic"/></w:rPr>'
        f"<w:t>{'☒' if checked else '☐'}</w:t></w:r></w:sdtContent></w:sdt>"))
    p.append(parse_xml(f'<w:r {nsdecls("w")}><w:t xml:space="preserve"> {label}  </w:t></w:r>'))


def field_box(paragraph: object, label: str, *, default: bool = False) -> None:
    """A legacy FORMCHECKBOX field with its label before it ("Yes [x]")."""
    p = paragraph._p  # type: ignore[attr-defined]
    p.append(parse_xml(f'<w:r {nsdecls("w")}><w:t xml:space="preserve">{label} </w:t></w:r>'))
    p.append(parse_xml(
        f'<w:r {nsdecls("w")}><w:fldChar w:fldCharType="begin"><w:ffData>'
        '<w:name w:val="Check"/><w:enabled/><w:calcOnExit w:val="0"/>'
        f'<w:checkBox><w:sizeAuto/><w:default w:val="{int(default)}"/></w:checkBox>'
        "</w:ffData></w:fldChar></w:r>"))
    p.append(parse_xml(f'<w:r {nsdecls("w")}><w:instrText xml:space="preserve"> FORMCHECKBOX '
                       "</w:instrText></w:r>"))
    p.append(parse_xml(f'<w:r {nsdecls("w")}><w:fldChar w:fldCharType="end"/></w:r>'))
    p.append(parse_xml(f'<w:r {nsdecls("w")}><w:t xml:space="preserve">   </w:t></w:r>'))


def build_form(document: Document) -> None:
    document.add_heading("Security", level=1)
    document.add_paragraph("1. Do you encrypt backups?")
    document.add_paragraph("☐ Yes     ☐ No     ☐ N/A")
    document.add_paragraph("2. Is MFA enforced for administrators?   ☐ Yes  ☐ No")
    document.add_paragraph("Comments: [Answer]")
    table = document.add_table(rows=5, cols=2)
    for row, question in enumerate(["Question", "Do you run annual penetration tests?",
                                    "Is a SOC 2 report available?", "Do you allow BYOD?",
                                    "Is there a DPO?"]):
        table.cell(row, 0).text = question
    table.cell(0, 1).text = "Response"
    table.cell(1, 1).text = "☐ Yes ☐ No"
    cell = table.cell(2, 1)
    control_box(cell.paragraphs[0], "Yes")
    control_box(cell.add_paragraph(), "No")
    for label in ("Yes", "No"):
        field_box(table.cell(3, 1).paragraphs[0], label, default=label == "No")
    dpo = table.cell(4, 1)
    dpo.text = "Yes ☐   No ☒"
    dpo.add_paragraph("Appointed in 2021.")
    document.add_paragraph("Signed by the vendor.")
