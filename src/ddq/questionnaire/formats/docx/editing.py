"""Editing the body XML: a paragraph's, cell's or content control's text replaced with the
answer (its label, style and first run's formatting kept), and new answer paragraphs that
look like the document's own."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ddq.forms import neutralise
from ddq.questionnaire.detect.questions import is_placeholder
from ddq.questionnaire.formats.docx.body_xml import (
    W_P,
    W_R,
    W_TBL,
    XML_NS,
    Element,
    cell_paragraphs,
    paragraph_text,
    val,
    w,
    xpath,
)
from ddq.questionnaire.formats.docx.boxes import Choice
from ddq.questionnaire.formats.docx.places import (
    _below,
    _inline_sdts,
    _label_end,
    _showing_placeholder,
)

if TYPE_CHECKING:
    pass

_CONTENT = frozenset(w(t) for t in (
    "r", "hyperlink", "ins", "del", "smartTag", "fldSimple", "sdt", "proofErr", "customXml",
    "moveFrom", "moveTo", "dir", "bdo"))
_MARK_ONLY = frozenset(w(t) for t in ("ins", "del", "moveFrom", "moveTo", "rPrChange"))
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_runs = xpath(".//w:r[not(ancestor::w:txbxContent)]")


def _formatting_run(element: Element) -> Element | None:
    """The run whose looks an answer takes: the first with text, else the first at all."""
    runs = _runs(element)
    return next((r for r in runs if _run_text(r).strip()), runs[0] if runs else None)


def _clean_value(value: str) -> str:
    text = neutralise(str(value)).replace("\r\n", "\n").replace("\r", "\n")
    return _XML_ILLEGAL.sub("", text)


def _run_properties(source: Element | None) -> Element | None:
    """A copy of run formatting (a run's, or a paragraph mark's) for a new run."""
    if source is None:
        return None
    rpr = copy.deepcopy(source)
    for child in list(rpr):
        if child.tag in _MARK_ONLY or (
                child.tag == w("rStyle") and (val(child) or "").lower() == "placeholdertext"):
            rpr.remove(child)
    return rpr


def _mark_properties(paragraph: Element) -> Element | None:
    return paragraph.find(f"{w('pPr')}/{w('rPr')}")


def _make_run(text: str, rpr: Element | None) -> Element:
    from docx.oxml import OxmlElement

    run = OxmlElement("w:r")
    if rpr is not None:
        run.append(rpr)
    for number, line in enumerate(text.split("\n")):
        if number:
            run.append(OxmlElement("w:br"))
        for part_number, part in enumerate(line.split("\t")):
            if part_number:
                run.append(OxmlElement("w:tab"))
            if part:
                t = OxmlElement("w:t")
                t.text = part
                if part != part.strip():
                    t.set(f"{{{XML_NS}}}space", "preserve")
                run.append(t)
    return run


def _label_runs(paragraph: Element, label: str) -> list[Element]:
    """The leading runs that hold exactly the answer label ("Response: "), if they do."""
    runs: list[Element] = []
    text = ""
    for child in paragraph:
        if child.tag not in _CONTENT:
            continue  # properties, bookmarks, comment marks
        if child.tag != W_R:
            return []
        runs.append(child)
        text += _run_text(child)
        if text.strip() == label.strip():
            return runs
        if len(text.strip()) > len(label.strip()):
            return []
    return []


def _run_text(run: Element) -> str:
    return "".join(t.text or "" for t in run.iterchildren(w("t"))) + "\t" * len(
        run.findall(w("tab")))


def _write_sdt(sdt: Element, text: str) -> None:
    """Fill a content control (dropdown, plain text) and keep the control itself."""
    for marker in _showing_placeholder(sdt):
        marker.getparent().remove(marker)
    content = sdt.find(w("sdtContent"))
    if content is None:
        return
    block = content.findall(W_P)
    if block:
        _write_paragraph(block[0], text)
        for extra in block[1:]:
            content.remove(extra)
        return
    first = _formatting_run(content)
    rpr = _run_properties(first.find(w("rPr"))) if first is not None else None
    for child in list(content):
        content.remove(child)
    content.append(_make_run(text, rpr))


def _write_paragraph(paragraph: Element, text: str) -> None:
    """Replace a paragraph's text, keeping its style and the first run's formatting."""
    existing = paragraph_text(paragraph).strip()
    sdts = _inline_sdts(paragraph)
    outside = "".join(_run_text(r) for r in paragraph.iterchildren(W_R)).strip()
    if len(sdts) == 1 and not outside:
        _write_sdt(sdts[0], text)
        return
    keep: list[Element] = []
    first = _formatting_run(paragraph)
    rpr_source = first.find(w("rPr")) if first is not None else _mark_properties(paragraph)
    label = _label_end(existing)
    if not existing or is_placeholder(existing):
        rpr_source = _mark_properties(paragraph)  # placeholder looks are not answer looks
    elif label is not None:
        keep = _label_runs(paragraph, existing[:label])
        if keep:
            following = keep[-1].getnext()
            rpr_source = (following.find(w("rPr")) if following is not None
                          and following.tag == W_R else _mark_properties(paragraph))
            if not _run_text(keep[-1])[-1:].isspace():
                text = " " + text  # "Response:" then the answer, not "Response:Answer"
        else:
            text = existing[:label].rstrip() + " " + text
    position = None
    for child in list(paragraph):
        if child.tag in _CONTENT and not any(child is k for k in keep):
            position = paragraph.index(child) if position is None else position
            paragraph.remove(child)
    run = _make_run(text, _run_properties(rpr_source))
    if keep:
        keep[-1].addnext(run)
    elif position is not None:
        paragraph.insert(position, run)
    else:
        paragraph.append(run)


def _write_cell(tc: Element, text: str) -> None:
    paragraphs = cell_paragraphs(tc)
    if not paragraphs:
        from docx.oxml import OxmlElement

        tc.append(OxmlElement("w:p"))
        paragraphs = cell_paragraphs(tc)
    _write_paragraph(paragraphs[0], text)
    parent = paragraphs[0].getparent()
    if parent.tag == w("sdtContent"):
        for marker in _showing_placeholder(parent.getparent()):
            marker.getparent().remove(marker)
    has_table = tc.find(W_TBL) is not None
    for extra in paragraphs[1:]:
        if has_table:
            _write_paragraph(extra, "")
        else:
            extra.getparent().remove(extra)


def _write_below(tc: Element, boxes: Choice, text: str) -> None:
    """Supporting text below a cell's check boxes: in the paragraph already there, or in a
    new one that looks like the boxes' paragraph."""
    below = _below(tc, boxes)
    if below:
        _write_paragraph(below[0], text)
        if tc.find(W_TBL) is None:
            for extra in below[1:]:
                extra.getparent().remove(extra)
        return
    last = boxes.paragraphs[-1]
    _insert_after(last, text, _look_of(last))


@dataclass(frozen=True, slots=True)
class _Convention:
    """How the document's answer paragraphs look, for the ones it is missing."""

    ppr: Element | None
    rpr: Element | None


def _look_of(model: Element) -> _Convention:
    """How ``model`` looks, for a new paragraph like it: its paragraph properties (without
    numbering or section breaks) and its paragraph mark's formatting, not a run's (a run
    may be an "Answer:" label)."""
    ppr = model.find(w("pPr"))
    if ppr is not None:
        ppr = copy.deepcopy(ppr)
        for child in list(ppr):
            if child.tag in (w("sectPr"), w("numPr"), w("pPrChange")):
                ppr.remove(child)
    return _Convention(ppr, _run_properties(_mark_properties(model)))


def _insert_after(paragraph: Element, text: str, convention: _Convention) -> None:
    from docx.oxml import OxmlElement

    new = OxmlElement("w:p")
    if convention.ppr is not None:
        new.append(copy.deepcopy(convention.ppr))
    rpr = copy.deepcopy(convention.rpr) if convention.rpr is not None else None
    new.append(_make_run(text, rpr))
    paragraph.addnext(new)
