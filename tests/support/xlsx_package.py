"""Saving an openpyxl workbook as Excel itself would have: what openpyxl cannot write is
added to the package XML afterwards.

- **Saved values of formulas.** openpyxl writes a formula without the value Excel computed
  for it, and DDQ reads saved values (``data_only``). ``save_workbook`` gives every formula
  cell the value the builder says it has (``cached``), as ``<v>`` with ``t="str"``; a formula
  without a given value is an error, so no fixture silently has an empty question.
- **x14 list dropdowns** that refer to another sheet (``'Answer Lists'!$A$1:$A$3``), which
  Excel stores in the worksheet's ``extLst`` and openpyxl neither reads nor writes.

The zip entries get fixed dates, so the same build gives the same bytes.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from lxml import etree
from openpyxl import Workbook

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
XM = "http://schemas.microsoft.com/office/excel/2006/main"
X14_DV_URI = "{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}"
ZIP_TIME = (2025, 3, 14, 9, 0, 0)
FIXED_TIME = datetime(*ZIP_TIME)

#: (sheet, cell) → the value Excel saved for the formula in that cell.
Cached = Mapping[tuple[str, str], str]
#: sheet → [(list source formula, sqref)], e.g. ("'Answer Lists'!$A$1:$A$3", "C9:C40").
X14Lists = Mapping[str, Sequence[tuple[str, str]]]


def sqref(cells: Sequence[str]) -> str:
    """Cells of one column ("C9", "C10", "C12") folded into ranges: "C9:C10 C12"."""
    pieces: list[str] = []
    parsed = [(re.sub(r"\d", "", c), int(re.sub(r"\D", "", c))) for c in cells]
    for letter, row in parsed:
        if pieces and pieces[-1][0] == letter and pieces[-1][2] == row - 1:
            first = pieces[-1][1]
            pieces[-1] = (letter, first, row)
        else:
            pieces.append((letter, row, row))
    return " ".join(f"{c}{a}" if a == b else f"{c}{a}:{c}{b}" for c, a, b in pieces)


def _sheet_parts(package: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → worksheet part; openpyxl numbers the parts in sheet order."""
    names = re.findall(r'<sheet [^>]*name="([^"]+)"', package.read("xl/workbook.xml").decode())
    unescape = {"&amp;": "&", "&apos;": "'", "&quot;": '"', "&lt;": "<", "&gt;": ">"}
    parts = {}
    for number, name in enumerate(names, start=1):
        for entity, char in unescape.items():
            name = name.replace(entity, char)
        parts[name] = f"xl/worksheets/sheet{number}.xml"
    return parts


def _add_cached_values(root: etree._Element, sheet: str, cached: Cached) -> None:
    for cell in root.iter(f"{{{MAIN}}}c"):
        formula = cell.find(f"{{{MAIN}}}f")
        if formula is None:
            continue
        ref = str(cell.get("r"))
        if (sheet, ref) not in cached:
            raise AssertionError(f"no saved value given for the formula in {sheet}!{ref}")
        for old in cell.findall(f"{{{MAIN}}}v"):
            cell.remove(old)
        etree.SubElement(cell, f"{{{MAIN}}}v").text = cached[(sheet, ref)]
        cell.set("t", "str")


def _add_x14_lists(root: etree._Element, lists: Sequence[tuple[str, str]]) -> None:
    ext_list = root.find(f"{{{MAIN}}}extLst")
    if ext_list is None:
        ext_list = etree.SubElement(root, f"{{{MAIN}}}extLst")
    ext = etree.SubElement(ext_list, f"{{{MAIN}}}ext", nsmap={"x14": X14})
    ext.set("uri", X14_DV_URI)
    validations = etree.SubElement(ext, f"{{{X14}}}dataValidations", nsmap={"xm": XM})
    validations.set("count", str(len(lists)))
    for source, cells in lists:
        validation = etree.SubElement(validations, f"{{{X14}}}dataValidation")
        for name, value in (("type", "list"), ("allowBlank", "1"), ("showErrorMessage", "1")):
            validation.set(name, value)
        formula = etree.SubElement(validation, f"{{{X14}}}formula1")
        etree.SubElement(formula, f"{{{XM}}}f").text = source
        etree.SubElement(validation, f"{{{XM}}}sqref").text = cells


def _patch(data: bytes, sheet: str, cached: Cached, lists: Sequence[tuple[str, str]]) -> bytes:
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    _add_cached_values(root, sheet, cached)
    if lists:
        _add_x14_lists(root, lists)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))


def save_workbook(workbook: Workbook, path: Path, *, cached: Cached | None = None,
                  x14_lists: X14Lists | None = None) -> Path:
    """Save ``workbook`` to ``path`` with the formulas' saved values and the x14 dropdowns."""
    cached = cached or {}
    x14_lists = x14_lists or {}
    workbook.properties.created = workbook.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    workbook.save(buffer)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as package, \
            zipfile.ZipFile(out, "w") as written:
        by_part = {part: name for name, part in _sheet_parts(package).items()}
        unknown = set(x14_lists) - set(by_part.values())
        if unknown:
            raise AssertionError(f"x14 dropdowns for sheets the workbook lacks: {unknown}")
        for entry in package.infolist():
            data = package.read(entry)
            sheet = by_part.get(entry.filename)
            if sheet is not None:
                data = _patch(data, sheet, cached, x14_lists.get(sheet, ()))
            info = zipfile.ZipInfo(entry.filename, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            written.writestr(info, data)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())
    return path
