"""Where the provenance record travels: a custom XML part of the OOXML package, or a sidecar.

In an XLSX or DOCX file the record is a Custom XML Data Storage part (ECMA-376 Part 1,
15.2.4), ``customXml/itemN.xml`` with its properties part ``customXml/itemPropsN.xml``, related
from the main part (the workbook, the document) as Office relates its own, and the properties
part registered in ``[Content_Types].xml``. Those two registering parts get one element each,
inserted as text before their closing tag, so every other byte of them stays; no other part
changes. Excel and Word keep such parts on save; LibreOffice Calc drops them (measured, see
docs/architecture.md), and then the file says "no provenance record", which is true.

A CSV file has no room: its record is ``<file>.provenance.json`` beside it.
"""

from __future__ import annotations

import posixpath
import re
import uuid
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree

from ddq.errors import DDQError, ErrorCode
from ddq.questionnaire.ooxml import check_package, copy_with_parts, replace_atomically

NAMESPACE = "urn:ddq:provenance:1"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CUSTOM_XML = f"{_REL}/customXml"
_CUSTOM_XML_PROPS = f"{_REL}/customXmlProps"
_OFFICE_DOCUMENT = f"{_REL}/officeDocument"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_PROPS_TYPE = "application/vnd.openxmlformats-officedocument.customXmlProperties+xml"
_CONTENT_TYPES = "[Content_Types].xml"
_ITEM = re.compile(r"customXml/item(\d+)\.xml", re.IGNORECASE)
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".provenance.json")


def is_package(path: Path) -> bool:
    return path.suffix.lower() in (".xlsx", ".docx", ".xlsm", ".docm")


# --- writing -------------------------------------------------------------------------------


def _item_xml(text: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<provenance xmlns="{NAMESPACE}">{escape(text)}</provenance>\n'
    ).encode()


def _props_xml() -> bytes:
    ds = "http://schemas.openxmlformats.org/officeDocument/2006/customXml"
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
        f'<ds:datastoreItem ds:itemID="{{{str(uuid.uuid4()).upper()}}}" xmlns:ds="{ds}">'
        f'<ds:schemaRefs><ds:schemaRef ds:uri="{NAMESPACE}"/></ds:schemaRefs>'
        "</ds:datastoreItem>"
    ).encode()


def _item_rels(number: int) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
        f'Type="{_CUSTOM_XML_PROPS}" Target="itemProps{number}.xml"/></Relationships>'
    ).encode()


def _insert_before_close(data: bytes, root: str, element: str, where: str) -> bytes:
    """``element`` inserted just before the closing ``root`` tag (with the root's prefix)."""
    match = re.search(rb"</((?:[\w.-]+:)?)" + root.encode() + rb"\s*>\s*$", data)
    if match is None:
        raise DDQError(ErrorCode.UNREADABLE_FILE, f"{where}: no closing {root} tag")
    prefix = match.group(1).decode()
    tagged = element.replace("<", f"<{prefix}", 1) if prefix else element
    return data[: match.start()] + tagged.encode() + data[match.start() :]


def _main_part(package: zipfile.ZipFile) -> str:
    root = etree.fromstring(package.read("_rels/.rels"), _PARSER)
    for rel in root:
        if rel.get("Type") == _OFFICE_DOCUMENT:
            return str(rel.get("Target", "")).lstrip("/")
    raise DDQError(ErrorCode.UNREADABLE_FILE, f"{package.filename}: no main part")


def _rels_of(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def _ours(package: zipfile.ZipFile, name: str) -> bool:
    try:
        root = etree.fromstring(package.read(name), _PARSER)
    except etree.XMLSyntaxError:
        return False
    return bool(etree.QName(root).namespace == NAMESPACE)


def _existing_item(package: zipfile.ZipFile) -> str | None:
    for name in package.namelist():
        if _ITEM.fullmatch(name) and _ours(package, name):
            return name
    return None


def attach(path: Path, envelope: str) -> list[str]:
    """Put the sealed record into the exported file at ``path`` (in place, atomically); the
    parts added or replaced, by name."""
    if not is_package(path):
        replace_atomically(sidecar(path), envelope.encode("utf-8"))
        return [sidecar(path).name]
    with zipfile.ZipFile(path) as package:
        names = {n.casefold() for n in package.namelist()}
        existing = _existing_item(package)
        if existing is not None:  # the file was exported before: replace our record
            copy_with_parts(package, path, {existing: _item_xml(envelope)})
            return [existing]
        number = 1
        while f"customxml/item{number}.xml" in names:
            number += 1
        item, props = f"customXml/item{number}.xml", f"customXml/itemProps{number}.xml"
        main = _main_part(package)
        rels_name = _rels_of(main)
        target = posixpath.relpath(item, posixpath.dirname(main))
        replaced: dict[str, bytes] = {}
        added: dict[str, bytes] = {
            item: _item_xml(envelope),
            props: _props_xml(),
            f"customXml/_rels/item{number}.xml.rels": _item_rels(number),
        }
        if rels_name.casefold() in names:
            current = package.read(rels_name)
            ids = set(re.findall(rb'Id="([^"]+)"', current))
            rid = next(f"rIdDdq{n}" for n in range(1, 10_000) if f"rIdDdq{n}".encode() not in ids)
            replaced[rels_name] = _insert_before_close(
                current,
                "Relationships",
                f'<Relationship Id="{rid}" Type="{_CUSTOM_XML}" Target="{target}"/>',
                rels_name,
            )
        else:
            added[rels_name] = (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<Relationships xmlns="{_PKG_REL}"><Relationship Id="rIdDdq1" '
                f'Type="{_CUSTOM_XML}" Target="{target}"/></Relationships>'
            ).encode()
        types = package.read(_CONTENT_TYPES)
        override = f'<Override PartName="/{props}" ContentType="{_PROPS_TYPE}"/>'
        if not re.search(rb'<(?:[\w.-]+:)?Default\s[^>]*Extension="xml"', types, re.I):
            override += f'<Override PartName="/{item}" ContentType="application/xml"/>'
        replaced[_CONTENT_TYPES] = _insert_before_close(types, "Types", override, _CONTENT_TYPES)
        copy_with_parts(package, path, replaced, added)
    return [*replaced, *added]


# --- reading -------------------------------------------------------------------------------


class Carried:
    """What a file carries: the record's text (None when there is none), and where from."""

    def __init__(self, text: str | None, where: str, problem: str = "") -> None:
        self.text, self.where, self.problem = text, where, problem


def read_carried(path: Path) -> Carried:
    """The envelope text an exported file carries. A part that is not well-formed XML is
    returned as a problem, never parsed further."""
    if not is_package(path):
        car = sidecar(path)
        if not car.is_file():
            return Carried(None, car.name)
        try:
            return Carried(car.read_text(encoding="utf-8"), car.name)
        except (OSError, UnicodeDecodeError) as exc:
            return Carried(None, car.name, f"{car.name} is unreadable ({exc})")
    kind = "DOCX" if path.suffix.lower().startswith(".doc") else "XLSX"
    try:
        check_package(path, kind)
    except DDQError as exc:
        if "customxml/" not in exc.detail.casefold():
            raise
        return Carried(None, "customXml", f"the provenance record is malformed ({exc.detail})")
    with zipfile.ZipFile(path) as package:
        for name in package.namelist():
            if not _ITEM.fullmatch(name):
                continue
            data = package.read(name)
            if NAMESPACE.encode() not in data:
                continue
            try:
                root = etree.fromstring(data, _PARSER)
            except etree.XMLSyntaxError as exc:
                return Carried(None, name, f"{name} is not well-formed XML ({exc})")
            if etree.QName(root).namespace != NAMESPACE or len(root):
                return Carried(None, name, f"{name} is not a DDQ provenance record")
            return Carried(root.text or "", name)
    return Carried(None, "customXml")
