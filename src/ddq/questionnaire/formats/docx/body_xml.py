"""The XML of a Word document's body, as DOCX questionnaires read and write it: namespaces,
tags and the text of paragraphs and table cells as Word shows it."""

from __future__ import annotations

from typing import Any

from lxml import etree

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
XML_NS = "http://www.w3.org/XML/1998/namespace"
NS = {"w": W_NS}
Element = Any  # an lxml element of word/document.xml


def w(tag: str) -> str:
    return f"{{{W_NS}}}{tag}"


def val(element: Element | None, attr: str = "val") -> str | None:
    return None if element is None else element.get(w(attr))


def xpath(expression: str) -> etree.XPath:
    return etree.XPath(expression, namespaces=NS)


W_P, W_TBL, W_TR, W_TC, W_R, W_SDT = (w(t) for t in ("p", "tbl", "tr", "tc", "r", "sdt"))

RUN_ITEMS = (w("t"), w("tab"), w("br"), w("cr"), w("noBreakHyphen"))
STOP = frozenset({w("txbxContent"), w("pPr"), w("rPr"), w("del"), w("moveFrom")})


def in_run_content(item: Element, paragraph: Element) -> bool:
    """Run text of this paragraph itself, not of a text box, the tab stops or a deletion."""
    if item.getparent() is None or item.getparent().tag != W_R:
        return False
    node = item.getparent().getparent()
    while node is not None and node is not paragraph:
        if node.tag in STOP:
            return False
        node = node.getparent()
    return True


def paragraph_text(paragraph: Element) -> str:
    parts: list[str] = []
    for item in paragraph.iter(*RUN_ITEMS):
        if not in_run_content(item, paragraph):
            continue
        if item.tag == w("t"):
            parts.append(item.text or "")
        elif item.tag == w("tab"):
            parts.append("\t")
        elif item.tag == w("noBreakHyphen"):
            parts.append("-")
        elif val(item, "type") in (None, "textWrapping"):
            parts.append("\n")
    return "".join(parts)


cell_paragraphs = xpath("./w:p | ./w:sdt/w:sdtContent/w:p")


def cell_text(tc: Element) -> str:
    return "\n".join(paragraph_text(p) for p in cell_paragraphs(tc)).strip()
