"""What reads as an answer place in a Word document: the labels ("Answer:",
"Comments:") and prompts, dropdown content controls and placeholders, and what a place holds
already; and what a walk of the body finds."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ddq.questionnaire.detect.choices import is_marked
from ddq.questionnaire.detect.keys import Found
from ddq.questionnaire.detect.questions import is_placeholder
from ddq.questionnaire.formats.docx.body_xml import (
    W_SDT,
    Element,
    cell_paragraphs,
    cell_text,
    paragraph_text,
    val,
    w,
    xpath,
)
from ddq.questionnaire.formats.docx.boxes import Choice, lone_box

if TYPE_CHECKING:
    pass

_ANSWER_LABEL = re.compile(
    r"^\s*(?:answer|response|vendor\s+response|reply|a)\s*[:：]\s*", re.IGNORECASE)
#: The label of a paragraph for supporting text below check boxes ("Comments: ...").
_NOTES_LABEL = re.compile(
    r"^\s*(?:comments?|notes?|details?|explanation|remarks?|evidence)\s*[:：]\s*",
    re.IGNORECASE)
#: A prompt and nothing, or a placeholder, after it: "If yes, describe: ______".
_PROMPT = re.compile(
    r"^(?P<label>[^:：\n]{1,80}[:：])\s*(?:_{3,}|\.{4,}|…+|\[[^\]\n]{0,40}\])?\s*$")


def _label_end(text: str) -> int | None:
    """Where the label that opens an answer place ends ("Answer:", "Comments:", a prompt
    before a placeholder), or None without one."""
    for pattern in (_ANSWER_LABEL, _NOTES_LABEL):
        match = pattern.match(text)
        if match is not None:
            return match.end()
    prompt = _PROMPT.match(text)
    return None if prompt is None else prompt.end("label")


_has_objects = xpath(".//w:drawing | .//w:pict | .//w:object | .//w:br[@w:type='page']")
_inline_sdts = xpath("./w:sdt | ./w:hyperlink/w:sdt | ./w:customXml/w:sdt")
_dropdowns = xpath(".//w:sdt[w:sdtPr/w:dropDownList]")
_showing_placeholder = xpath("./w:sdtPr/w:showingPlcHdr")
_list_items = xpath("./w:sdtPr/w:dropDownList/w:listItem")


def _dropdown_values(element: Element) -> tuple[str, ...]:
    """The items of the first dropdown content control in ``element``, as Word shows them."""
    for sdt in _dropdowns(element):
        values: list[str] = []
        for item in _list_items(sdt):
            shown = (val(item, "displayText") or val(item, "value") or "").strip()
            if shown and not is_placeholder(shown) and shown not in values:
                values.append(shown)
        if values:
            return tuple(values)
    return ()


def _showing_sdt_placeholder(element: Element) -> bool:
    sdts = [element] if element.tag == W_SDT else list(element.iter(W_SDT))
    return any(_showing_placeholder(s) for s in sdts)


def _style_id(paragraph: Element) -> str | None:
    return val(paragraph.find(f"{w('pPr')}/{w('pStyle')}"))


def _slot(paragraph: Element, answer_styles: frozenset[str] = frozenset()
          ) -> tuple[bool, str | None]:
    """Whether a paragraph is an answer place, and the answer it already holds.

    Empty, labelled ("Answer: ...") and placeholder paragraphs are answer places; so is any
    paragraph in the document's answer style, which is how an answered copy is read back.
    """
    if _has_objects(paragraph):
        return False, None
    text = paragraph_text(paragraph).strip()
    if not text or is_placeholder(text) or _showing_sdt_placeholder(paragraph):
        return True, None
    label = _ANSWER_LABEL.match(text)
    if label is None:
        return (True, text) if _style_id(paragraph) in answer_styles else (False, None)
    rest = text[label.end():].strip()
    return True, (rest if rest and not is_placeholder(rest) else None)


def _current_after_label(cell: Element) -> str | None:
    """What an answer cell holds after its label ("Response: Acme" -> "Acme")."""
    existing = cell_text(cell).strip()
    label = _label_end(existing)
    return _current(existing[label:] if label else existing, cell)


def _current(text: str, element: Element) -> str | None:
    text = text.strip()
    if not text or is_placeholder(text) or _showing_sdt_placeholder(element):
        return None
    return text


@dataclass(slots=True)
class _Scan:
    found: list[Found] = field(default_factory=list)
    tables: list[dict[str, Any]] = field(default_factory=list)
    #: Paragraphs (index, element) that are answer places below a question paragraph.
    slots: list[tuple[int, Element]] = field(default_factory=list)
    after_targets: int = 0
    warnings: list[str] = field(default_factory=list)


def _below(tc: Element, boxes: Choice) -> list[Element]:
    """The paragraphs of a cell after its last check-box paragraph."""
    paragraphs = list(cell_paragraphs(tc))
    last = max(paragraphs.index(p) for p in boxes.paragraphs)
    return paragraphs[last + 1:]


def _marked(cell: Element) -> bool:
    """Whether a choice cell is marked: its one check box ticked, or any text but "☐"."""
    box = lone_box(cell_paragraphs(cell))
    return box.ticked if box is not None else is_marked(cell_text(cell))
