"""The number Word shows in front of a list paragraph (numbering.xml and styles), for
questions numbered by Word rather than typed."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ddq.questionnaire.formats.docx.body_xml import W_P, Element, val, w, xpath

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument

_ROMAN = ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
          (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"))
_MAX_LEVELS = 9


def _roman(number: int) -> str:
    out = []
    for value, letters in _ROMAN:
        while number >= value:
            out.append(letters)
            number -= value
    return "".join(out)


def _format_number(number: int, fmt: str) -> str | None:
    if fmt in ("decimal", "decimalZero"):
        return f"{number:02d}" if fmt == "decimalZero" and number < 10 else str(number)
    if fmt in ("lowerLetter", "upperLetter") and number >= 1:
        letter = chr(ord("a") + (number - 1) % 26) * ((number - 1) // 26 + 1)
        return letter.upper() if fmt == "upperLetter" else letter
    if fmt in ("lowerRoman", "upperRoman") and number >= 1:
        return _roman(number).upper() if fmt == "upperRoman" else _roman(number)
    return None


@dataclass(frozen=True, slots=True)
class _Level:
    fmt: str
    text: str
    start: int


class _ListNumbers:
    """The number Word shows in front of each list paragraph, when it is simple to know.

    Counted per numbering instance (numId) and level in document order, deeper levels
    restarting under a new item; bullets, picture bullets and style-linked lists give None.
    """

    _num = xpath("w:num[@w:numId=$id]")
    _abstract = xpath("w:abstractNum[@w:abstractNumId=$id]")
    _style = xpath("w:style[@w:styleId=$id]")
    _default_style = xpath("w:style[@w:type='paragraph' and @w:default='1']")

    def __init__(self, numbering: Element | None, styles: Element | None) -> None:
        self._numbering = numbering
        self._styles = styles
        self._counters: dict[str, list[int | None]] = {}
        self._levels: dict[tuple[str, int], _Level | None] = {}

    def num_pr(self, paragraph: Element) -> tuple[str, int] | None:
        """(numId, level) of a list paragraph, from its own properties or its style's."""
        ppr = paragraph.find(w("pPr"))
        num_pr = ppr.find(w("numPr")) if ppr is not None else None
        num_id = val(num_pr.find(w("numId"))) if num_pr is not None else None
        ilvl = val(num_pr.find(w("ilvl"))) if num_pr is not None else None
        style_id = val(ppr.find(w("pStyle"))) if ppr is not None else None
        for style in self._style_chain(style_id):
            style_num = style.find(f"{w('pPr')}/{w('numPr')}")
            if style_num is not None:
                num_id = num_id or val(style_num.find(w("numId")))
                ilvl = ilvl or val(style_num.find(w("ilvl")))
        if not num_id or num_id == "0":
            return None
        level = int(ilvl) if ilvl and ilvl.isdigit() else 0
        return num_id, min(level, _MAX_LEVELS - 1)

    def _style_chain(self, style_id: str | None) -> Iterator[Element]:
        if self._styles is None:
            return
        found = (self._style(self._styles, id=style_id) if style_id
                 else self._default_style(self._styles))
        seen: set[str] = set()
        while found and len(seen) < 10:
            style = found[0]
            yield style
            seen.add(style.get(w("styleId")) or "")
            based_on = val(style.find(w("basedOn")))
            if not based_on or based_on in seen:
                return
            found = self._style(self._styles, id=based_on)

    def _level(self, num_id: str, ilvl: int) -> _Level | None:
        key = (num_id, ilvl)
        if key not in self._levels:
            self._levels[key] = self._read_level(num_id, ilvl)
        return self._levels[key]

    def _read_level(self, num_id: str, ilvl: int) -> _Level | None:
        if self._numbering is None:
            return None
        nums = self._num(self._numbering, id=num_id)
        if not nums:
            return None
        override = nums[0].find(f"{w('lvlOverride')}[@{w('ilvl')}='{ilvl}']")
        lvl = override.find(w("lvl")) if override is not None else None
        if lvl is None:
            abstract = self._abstract(self._numbering,
                                      id=val(nums[0].find(w("abstractNumId"))) or "")
            if not abstract or abstract[0].find(w("numStyleLink")) is not None:
                return None
            lvl = abstract[0].find(f"{w('lvl')}[@{w('ilvl')}='{ilvl}']")
        if lvl is None:
            return None
        start = val(lvl.find(w("start"))) or "0"
        restart = val(override.find(w("startOverride"))) if override is not None else None
        fmt = val(lvl.find(w("numFmt"))) or "decimal"
        if lvl.find(w("isLgl")) is not None:
            fmt = "decimal"
        text = val(lvl.find(w("lvlText")))
        if text is None:
            return None
        first = restart or start
        return _Level(fmt, text, int(first) if first.lstrip("-").isdigit() else 0)

    def advance(self, paragraph: Element) -> tuple[bool, str | None]:
        """Count ``paragraph`` (in document order): (is a list item, its shown number)."""
        found = self.num_pr(paragraph)
        if found is None:
            return False, None
        num_id, ilvl = found
        level = self._level(num_id, ilvl)
        counters = self._counters.setdefault(num_id, [None] * _MAX_LEVELS)
        current = counters[ilvl]
        counters[ilvl] = (level.start if level else 1) if current is None else current + 1
        for deeper in range(ilvl + 1, _MAX_LEVELS):
            counters[deeper] = None
        return True, self._shown(num_id, level, counters)

    def _shown(self, num_id: str, level: _Level | None,
               counters: Sequence[int | None]) -> str | None:
        if level is None or level.fmt in ("bullet", "none"):
            return None

        def number(match: re.Match[str]) -> str:
            index = int(match.group(1)) - 1
            at = self._level(num_id, index)
            value = counters[index]
            if at is None:
                raise ValueError("unknown level")
            shown = _format_number(value if value is not None else at.start, at.fmt)
            if shown is None:
                raise ValueError("unsupported format")
            return shown

        try:
            text = re.sub(r"%([1-9])", number, level.text)
        except ValueError:
            return None
        text = text.strip().strip(".):").lstrip("(").strip()
        return text or None


def _list_numbers(document: DocxDocument) -> dict[Element, tuple[bool, str | None]]:
    """Every body paragraph's list state, counted over the whole body in document order."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    try:
        part: Any = document.part.part_related_by(RT.NUMBERING)
        numbering = part.element
    except (KeyError, AttributeError):
        numbering = None
    try:
        styles = document.styles.element
    except (KeyError, AttributeError):
        styles = None
    numbers = _ListNumbers(numbering, styles)
    return {p: numbers.advance(p) for p in document.element.body.iter(W_P)}
