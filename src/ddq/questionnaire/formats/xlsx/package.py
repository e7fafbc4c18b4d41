"""The workbook package: its worksheet parts and their names (from the workbook's
relationships), what openpyxl does not give (x14 dropdowns, which cells hold formulas),
the shared strings, and opening the workbook with openpyxl for saved values."""

from __future__ import annotations

import io
import posixpath
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from ddq.errors import DDQError, ErrorCode
from ddq.questionnaire.formats.xlsx.values import _why

_X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
_XM = "http://schemas.microsoft.com/office/excel/2006/main"




def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _resolve_target(base_dir: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(base_dir, target)).lstrip("/")


@dataclass(frozen=True, slots=True)
class _SheetPart:
    name: str
    part: str  # the zip entry, e.g. "xl/worksheets/sheet1.xml"
    worksheet: bool  # False for chart and dialog sheets
    state: str


def _workbook_rels(package: zipfile.ZipFile) -> tuple[str, dict[str, tuple[str, str]]]:
    """The workbook part, and its relationships: id → (type, part)."""
    workbook_part = "xl/workbook.xml"
    for rel in SafeET.fromstring(package.read("_rels/.rels")):
        if rel.get("Type", "").endswith("/officeDocument"):
            workbook_part = _resolve_target("", rel.get("Target", ""))
    base = posixpath.dirname(workbook_part)
    rels_part = posixpath.join(base, "_rels", posixpath.basename(workbook_part) + ".rels")
    targets = {
        rel.get("Id", ""): (rel.get("Type", ""), _resolve_target(base, rel.get("Target", "")))
        for rel in SafeET.fromstring(package.read(rels_part))
    }
    return workbook_part, targets


def _sheet_parts(package: zipfile.ZipFile) -> list[_SheetPart]:
    """Sheet name → worksheet part, via the workbook part and its relationships."""
    workbook_part, targets = _workbook_rels(package)
    sheets = []
    for element in SafeET.fromstring(package.read(workbook_part)).iter():
        if _local(element.tag) != "sheet":
            continue
        rid = next((v for k, v in element.attrib.items() if k.endswith("}id")), "")
        kind, part = targets.get(rid, ("", ""))
        sheets.append(
            _SheetPart(
                element.get("name", ""),
                part,
                kind.endswith("/worksheet"),
                element.get("state", "visible"),
            )
        )
    return sheets


@dataclass(slots=True)
class _SheetXml:
    """What openpyxl does not tell: x14 list dropdowns and the cells that hold formulas."""

    x14_lists: list[tuple[str, str]] = field(default_factory=list)  # (formula, sqref)
    formula_cells: set[str] = field(default_factory=set)
    #: Cell → its formula's text; a shared formula's copies get the text of its first cell
    #: (which sheets it refers to is the same in every copy).
    formulas: dict[str, str] = field(default_factory=dict)


def _scan_sheet_xml(data: bytes) -> _SheetXml:
    found = _SheetXml()
    shared: dict[str, str] = {}
    for _event, element in SafeET.iterparse(io.BytesIO(data), events=("end",)):
        tag = element.tag
        if tag == f"{{{_X14}}}dataValidation":
            formula = element.find(f"{{{_X14}}}formula1/{{{_XM}}}f")
            sqref = element.find(f"{{{_XM}}}sqref")
            if element.get("type") == "list" and formula is not None and sqref is not None:
                found.x14_lists.append(((formula.text or "").strip(), (sqref.text or "").strip()))
        elif _local(tag) == "c":
            formula = next((child for child in element if _local(child.tag) == "f"), None)
            if element.get("r") and formula is not None:
                ref = str(element.get("r")).upper()
                found.formula_cells.add(ref)
                text = formula.text or ""
                index = formula.get("si")
                if index is not None and text:
                    shared[index] = text
                found.formulas[ref] = text or shared.get(index or "", "")
            element.clear()
        elif _local(tag) == "row":
            element.clear()
    return found


def _read_sheet_xml(path: Path, names: list[str]) -> dict[str, _SheetXml]:
    try:
        with zipfile.ZipFile(path) as package:
            parts = {s.name: s for s in _sheet_parts(package)}
            return {
                name: _scan_sheet_xml(package.read(parts[name].part))
                for name in names
                if name in parts and parts[name].worksheet
            }
    except DefusedXmlException as exc:
        raise DDQError(
            ErrorCode.UNSAFE_FILE, f"{path}: unsafe XML in the workbook ({_why(exc)})"
        ) from exc
    except (KeyError, ValueError, SyntaxError, OSError, zipfile.BadZipFile) as exc:
        raise DDQError(
            ErrorCode.UNREADABLE_FILE, f"{path}: corrupt XLSX package ({_why(exc)})"
        ) from exc


def _open_workbook(path: Path) -> Workbook:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Data Validation extension is not supported"
            return load_workbook(path, data_only=True)
    except DefusedXmlException as exc:
        raise DDQError(
            ErrorCode.UNSAFE_FILE, f"{path}: unsafe XML in the workbook ({_why(exc)})"
        ) from exc
    except Exception as exc:  # openpyxl raises a wide range of errors on a damaged file
        raise DDQError(
            ErrorCode.UNREADABLE_FILE, f"{path}: not a readable XLSX workbook ({_why(exc)})"
        ) from exc


def _shared_strings(package: zipfile.ZipFile) -> list[str]:
    """The workbook's shared strings, in order (what a cell of type "s" indexes)."""
    workbook_part, targets = _workbook_rels(package)
    part = next((target for kind, target in targets.values() if kind.endswith("/sharedStrings")),
                posixpath.join(posixpath.dirname(workbook_part), "sharedStrings.xml"))
    if part not in package.namelist():
        return []
    strings = []
    for item in SafeET.fromstring(package.read(part)):
        # The text runs of the item; a phonetic reading (rPh) is not part of the value.
        runs = [r for r in item if _local(r.tag) in ("t", "r")]
        strings.append("".join(t.text or "" for r in runs for t in r.iter()
                               if _local(t.tag) == "t"))
    return strings
