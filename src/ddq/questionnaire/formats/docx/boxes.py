"""Check boxes in Word questionnaires: "☐ Yes  ☐ No" is answered by ticking one box.

Three kinds of box are read and ticked:

- check box content controls (Word 2010 and later, ``w14:checkbox``): their state and the
  character they show;
- legacy form fields (``FORMCHECKBOX``): the field's checked state;
- box characters typed into the text: ☐ or □ unticked, ☒ or ☑ ticked; and the Wingdings
  boxes Word's Insert Symbol puts in (``w:sym``, 0xA8 unticked, 0xFE or 0xFD ticked).

Two or more boxes in an answer place, each with a label beside it, make the place a choice:
the labels are the question's allowed values. Labels follow their boxes ("☐ Yes ☐ No") or,
when a box ends its line, come before them ("Yes ☐  No ☐"). Ticking marks the chosen box
and clears the others; nothing else in the place changes. Boxes of other symbol fonts
(Wingdings 2, Webdings) are not read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from ddq.questionnaire.formats.docx.body_xml import STOP, W_SDT, Element, val, w

W14_NS = "http://schemas.microsoft.com/office/word/2010/wordml"

UNTICKED = "☐□"
TICKED = "☒☑"
_DEFAULT_UNTICKED, _DEFAULT_TICKED = "☐", "☒"
#: Wingdings character codes (``w:sym``; Word may add 0xF000): a box, ticked or not.
_WINGDINGS_UNTICKED, _WINGDINGS_TICKED = frozenset({0xA8}), frozenset({0xFE, 0xFD})
#: A label ends at a line break, a tab or a wide gap of spaces.
_LABEL_END = re.compile(r"\n|\t| {3,}")
_LABEL_TRIM = " _/|,;:-–.\u00a0"
_MAX_LABEL_CHARS = 60
_TRUE = ("1", "true", "on")


def _w14(tag: str) -> str:
    return f"{{{W14_NS}}}{tag}"


def _w14_val(element: Element | None) -> str | None:
    return None if element is None else element.get(_w14("val"))


@dataclass(frozen=True, slots=True)
class _Box:
    kind: Literal["control", "field", "glyph", "symbol"]
    #: The content control (``w:sdt``), the field's ``w:checkBox``, the ``w:t`` holding the
    #: box character, or the ``w:sym``.
    node: Element
    #: The box character's index in the ``w:t`` text (glyph boxes only).
    offset: int = 0

    @property
    def ticked(self) -> bool:
        if self.kind == "glyph":
            return (self.node.text or "")[self.offset] in TICKED
        if self.kind == "symbol":
            return _wingdings(self.node) in _WINGDINGS_TICKED
        if self.kind == "control":
            return (_w14_val(self.node.find(f"{w('sdtPr')}/{_w14('checkbox')}/{_w14('checked')}"))
                    or "0").lower() in _TRUE
        checked = self.node.find(w("checked"))
        if checked is not None:
            return (val(checked) or "1").lower() in _TRUE
        return (val(self.node.find(w("default"))) or "0").lower() in _TRUE


def _wingdings(sym: Element) -> int | None:
    """The Wingdings character code of a ``w:sym``, or None for another font."""
    if (val(sym, "font") or "").strip().lower() != "wingdings":
        return None
    try:
        return int(val(sym, "char") or "", 16) & 0xFF
    except ValueError:
        return None


def _control_box(sdt: Element) -> bool:
    return sdt.find(f"{w('sdtPr')}/{_w14('checkbox')}") is not None


def _tokens(node: Element) -> Iterator[str | _Box]:
    """Text and boxes of a paragraph, in reading order (no text boxes, no deletions)."""
    for child in node:
        tag = child.tag
        if tag in STOP:
            continue
        if tag == W_SDT and _control_box(child):
            yield _Box("control", child)
        elif tag == w("fldChar"):
            box = child.find(f"{w('ffData')}/{w('checkBox')}")
            if box is not None and val(child, "fldCharType") == "begin":
                yield _Box("field", box)
        elif tag == w("t"):
            text = child.text or ""
            start = 0
            for offset, char in enumerate(text):
                if char in UNTICKED or char in TICKED:
                    yield text[start:offset]
                    yield _Box("glyph", child, offset)
                    start = offset + 1
            yield text[start:]
        elif tag == w("sym"):
            if _wingdings(child) in _WINGDINGS_UNTICKED | _WINGDINGS_TICKED:
                yield _Box("symbol", child)
        elif tag == w("tab"):
            yield "\t"
        elif tag in (w("br"), w("cr")):
            yield "\n"
        elif tag == w("noBreakHyphen"):
            yield "-"
        else:
            yield from _tokens(child)


def _clean(label: str) -> str:
    return " ".join(label.split()).strip(_LABEL_TRIM)


def _after(text: str) -> str:
    """The label right after a box: up to the end of its line."""
    return _clean(_LABEL_END.split(text.lstrip(" \u00a0"), maxsplit=1)[0])


def _before(text: str) -> tuple[str, str]:
    """(what comes before the label, the label) for a label right before a box: the end of
    the line, after a question mark or colon ("Encrypted? Yes ☐")."""
    head = text.rstrip(" \u00a0")
    line = _LABEL_END.split(head)[-1]
    cut = max(line.rfind("?"), line.rfind(":")) + 1
    return head[:len(head) - len(line) + cut], _clean(line[cut:])


def _usable(labels: Sequence[str]) -> bool:
    return (all(labels) and len({label.casefold() for label in labels}) == len(labels)
            and max(len(label) for label in labels) <= _MAX_LABEL_CHARS)


@dataclass(frozen=True, slots=True)
class Choice:
    """A group of labelled check boxes: one answer place whose values are the labels."""

    boxes: tuple[_Box, ...]
    labels: tuple[str, ...]
    #: The text before the first box (a question that carries its own boxes).
    prompt: str
    #: The paragraphs the boxes are in, in order.
    paragraphs: tuple[Element, ...]

    @property
    def current(self) -> str | None:
        """The label of the ticked box (labels, comma-separated, when several are ticked)."""
        ticked = [label for box, label in zip(self.boxes, self.labels, strict=True)
                  if box.ticked]
        return ", ".join(ticked) or None

    def index_of(self, value: str) -> int | None:
        wanted = _clean(value).casefold()
        return next((i for i, label in enumerate(self.labels) if label.casefold() == wanted),
                    None)

    def tick(self, index: int) -> None:
        """Tick box ``index`` and clear every other one."""
        glyphs = [(b.node.text or "")[b.offset] for b in self.boxes if b.kind == "glyph"]
        ticked = next((g for g in glyphs if g in TICKED), _DEFAULT_TICKED)
        unticked = next((g for g in glyphs if g in UNTICKED), _DEFAULT_UNTICKED)
        codes = [_wingdings(b.node) for b in self.boxes if b.kind == "symbol"]
        symbol = next((c for c in codes if c in _WINGDINGS_TICKED), 0xFE)
        for number, box in enumerate(self.boxes):
            _set(box, number == index, ticked, unticked, symbol)


def _set(box: _Box, on: bool, ticked: str, unticked: str, symbol: int) -> None:
    if box.kind == "symbol":
        box.node.set(w("char"), f"F0{symbol if on else 0xA8:02X}")
    elif box.kind == "glyph":
        text = box.node.text or ""
        box.node.text = text[:box.offset] + (ticked if on else unticked) + text[box.offset + 1:]
    elif box.kind == "field":
        checked = box.node.find(w("checked"))
        if checked is None:
            checked = box.node.makeelement(w("checked"), {})
            box.node.append(checked)  # last in w:checkBox, after w:size and w:default
        checked.set(w("val"), "1" if on else "0")
    else:
        _set_control(box.node, on)


def _set_control(sdt: Element, on: bool) -> None:
    checkbox = sdt.find(f"{w('sdtPr')}/{_w14('checkbox')}")
    checked = checkbox.find(_w14("checked"))
    if checked is None:
        checked = checkbox.makeelement(_w14("checked"), {})
        checkbox.insert(0, checked)
    checked.set(_w14("val"), "1" if on else "0")
    state = checkbox.find(_w14("checkedState" if on else "uncheckedState"))
    code = _w14_val(state) or ("2612" if on else "2610")
    try:
        char = chr(int(code, 16))
    except ValueError:
        char = _DEFAULT_TICKED if on else _DEFAULT_UNTICKED
    shown = next(iter(sdt.iterfind(f"{w('sdtContent')}//{w('t')}")), None)
    if shown is not None:
        shown.text = char


def choice_in(paragraphs: Sequence[Element]) -> Choice | None:
    """The labelled check-box group in ``paragraphs`` (a cell's, or one paragraph), if any."""
    boxes: list[_Box] = []
    texts = [""]  # texts[i]: the text before box i; texts[-1]: after the last box
    holders: list[Element] = []
    for number, paragraph in enumerate(paragraphs):
        if number:
            texts[-1] += "\n"
        for token in _tokens(paragraph):
            if isinstance(token, str):
                texts[-1] += token
            else:
                boxes.append(token)
                texts.append("")
                if not holders or holders[-1] is not paragraph:
                    holders.append(paragraph)
    if len(boxes) < 2:
        return None
    following = [_after(t) for t in texts[1:]]
    if _usable(following):
        return Choice(tuple(boxes), tuple(following), texts[0].strip(), tuple(holders))
    preceding = [_before(t)[1] for t in texts[:-1]]
    if _usable(preceding):
        return Choice(tuple(boxes), tuple(preceding), _before(texts[0])[0].strip(),
                      tuple(holders))
    return None


def lone_box(paragraphs: Sequence[Element]) -> _Box | None:
    """The one check box of a place that holds nothing else: a box under a choice's column
    header ("Question | Yes | No", a box in each choice cell)."""
    boxes: list[_Box] = []
    text = ""
    for paragraph in paragraphs:
        for token in _tokens(paragraph):
            if isinstance(token, str):
                text += token
            else:
                boxes.append(token)
    return boxes[0] if len(boxes) == 1 and not text.strip() else None


def set_box(box: _Box, on: bool) -> None:
    """Tick or clear one box, in its own kind (a glyph, a control, a field, a symbol)."""
    _set(box, on, _DEFAULT_TICKED, _DEFAULT_UNTICKED, 0xFE)
