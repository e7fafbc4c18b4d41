"""Word (DOCX) questionnaires: numbered question paragraphs and question/answer tables.

Extraction walks the body in document order (paragraphs and tables interleaved), keeping the
headings above as the section. A question is either

- a numbered paragraph (list numbering, or a written "1.2", "Q3:", "a)") that reads as a
  question, answered in the paragraph right after it when that one is empty, labelled
  ("Answer:") or a placeholder ("[Answer]"), else in a new paragraph inserted after it; or
- a row of a table whose header names a question column and an answer column (a Yes/No
  column is the answer and the comments the notes), or of a two-column table of questions.

An answer place holding labelled check boxes ("☐ Yes ☐ No", see ``docx_boxes``) is a choice
among its labels, answered by ticking one; a question may carry its boxes in its own
paragraph. The supporting text goes to the notes column, a "Comments:" paragraph below the
boxes, or a new paragraph there (in a table cell: below the boxes, in the same cell).

Writing changes only the answer places: python-docx parses the package, the answer paragraphs
and cells are edited in ``word/document.xml``, and the copy is assembled from the original
zip with every other part copied byte for byte (images, headers, styles, numbering, ...).
"""

from __future__ import annotations

import copy
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ddq.errors import DDQError, ErrorCode
from ddq.forms import (
    DEFAULT_LIMITS,
    YES_NO_VALUES,
    ExtractedQuestion,
    Extraction,
    ExtractOptions,
    FileFormat,
    PackageLimits,
    Target,
    TargetKind,
    TargetRole,
    neutralise,
    value_kind,
)
from ddq.questionnaire.detect.choices import choice_columns, choice_marks, is_marked, marked_row
from ddq.questionnaire.detect.headers import HeaderColumns, classify_headers
from ddq.questionnaire.detect.keys import Placed, assign_keys
from ddq.questionnaire.detect.questions import (
    is_placeholder,
    paragraph_asks,
    split_written_number,
    stated_limit,
)
from ddq.questionnaire.docx_boxes import Choice, choice_in, lone_box, set_box
from ddq.questionnaire.docx_xml import (
    W_P,
    W_R,
    W_SDT,
    W_TBL,
    W_TC,
    W_TR,
    XML_NS,
    Element,
    cell_paragraphs,
    cell_text,
    paragraph_text,
    val,
    w,
    xpath,
)
from ddq.questionnaire.ooxml import check_package, copy_with_parts, refuse_overwrite

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument


# --- what reads as a question, an answer place, a placeholder --------------------------------

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


# --- list numbering ---------------------------------------------------------------------------

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


# --- tables ------------------------------------------------------------------------------------


def _grid(tr: Element) -> list[Element | None]:
    """The row's cell per grid column: a spanned cell repeats; skipped columns are None."""
    cells: list[Element | None] = []
    before = val(tr.find(f"{w('trPr')}/{w('gridBefore')}"))
    cells.extend([None] * (int(before) if before and before.isdigit() else 0))
    for tc in tr.iterchildren(W_TC):
        span = val(tc.find(f"{w('tcPr')}/{w('gridSpan')}"))
        cells.extend([tc] * (int(span) if span and span.isdigit() and int(span) > 0 else 1))
    return cells


def _continues_merge(tc: Element) -> bool:
    v_merge = tc.find(f"{w('tcPr')}/{w('vMerge')}")
    return v_merge is not None and val(v_merge) != "restart"


def _merge_origin(rows: Sequence[Element], row: int, col: int) -> Element | None:
    """The cell a vertically merged grid position shows: the first one of the merge."""
    for index in range(row, -1, -1):
        grid = _grid(rows[index])
        tc = grid[col] if col < len(grid) else None
        if tc is None or not _continues_merge(tc):
            return tc
    return None


def _merged_across(grid: Sequence[Element | None]) -> bool:
    cells = [tc for tc in grid if tc is not None]
    return len(grid) > 1 and len(cells) == len(grid) and len({id(tc) for tc in cells}) == 1


def _header_texts(grid: Sequence[Element | None]) -> list[str]:
    texts: list[str] = []
    previous: Element | None = None
    for tc in grid:
        texts.append("" if tc is None or tc is previous else cell_text(tc))
        previous = tc
    return texts


# --- the walk ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Found:
    text: str
    qid: str | None
    section: tuple[str, ...]
    location: str
    answer: Target | None
    notes: Target | None = None


@dataclass(slots=True)
class _Scan:
    found: list[_Found] = field(default_factory=list)
    tables: list[dict[str, Any]] = field(default_factory=list)
    #: Paragraphs (index, element) that are answer places below a question paragraph.
    slots: list[tuple[int, Element]] = field(default_factory=list)
    after_targets: int = 0
    warnings: list[str] = field(default_factory=list)


def _heading_level(paragraph: Any) -> int | None:
    """0 for Title, n for "Heading n" (or a style based on one), None for body text."""
    try:
        style = paragraph.style
    except (KeyError, ValueError, AttributeError):
        return None
    for _ in range(10):
        if style is None:
            return None
        name = (style.name or "").strip()
        match = re.fullmatch(r"heading\s*([1-9])", name, re.IGNORECASE)
        if match:
            return int(match.group(1))
        if name.lower() == "title":
            return 0
        style = style.base_style
    return None


class _Walker:
    def __init__(self, document: DocxDocument, options: ExtractOptions,
                 answer_styles: frozenset[str] = frozenset()) -> None:
        self.document = document
        self.options = options
        self.answer_styles = answer_styles
        self.numbers = _list_numbers(document)
        self.headings: list[tuple[int, str]] = []
        self.scan = _Scan()
        self.body = list(document.element.body.iterchildren())
        self.paragraphs = document.paragraphs
        self.p_index = {p: i for i, p in enumerate(c for c in self.body if c.tag == W_P)}
        self.t_index = {t: i for i, t in enumerate(c for c in self.body if c.tag == W_TBL)}

    @property
    def section(self) -> tuple[str, ...]:
        return tuple(text for _, text in self.headings)

    def run(self) -> _Scan:
        table_index = -1
        wrapped = 0
        for position, child in enumerate(self.body):
            if child.tag == W_P:
                self._paragraph(child, position)
            elif child.tag == W_TBL:
                table_index += 1
                _TableReader(self, child, table_index).read()
            elif child.tag in (W_SDT, w("customXml")) and "".join(child.itertext()).strip():
                wrapped += 1
        if wrapped:
            # Answer refs address body paragraphs and tables; wrapped ones have no address.
            self.scan.warnings.append(
                f"{wrapped} content control(s) wrap body text; questions inside them are not "
                "read (remove the content controls in Word to include them)")
        return self.scan

    def _heading_asks(self, text: str, position: int) -> bool:
        """A question set in a heading style ("1.1 Does the firm have a manual?" in Heading
        3): it asks, and an answer place follows it (an empty, labelled or placeholder
        paragraph, an answer box, or a line of check boxes)."""
        written, rest = split_written_number(text)
        if not (rest.endswith("?") or (written and paragraph_asks(rest))):
            return False
        if self._answer_box(position) is not None:
            return True
        following = self._next_paragraph(position)
        if following is None or _heading_level(self.paragraphs[self.p_index[following]]):
            return False
        below = choice_in([following])
        if below is not None and not below.prompt:
            return True
        slot, _ = _slot(following, self.answer_styles)
        # An empty paragraph under an unnumbered heading is more often spacing than a place.
        return slot and bool(written or paragraph_text(following).strip())

    def _answer_box(self, position: int) -> tuple[int, Element] | None:
        """The table right after a paragraph when it is a box for the answer: one row of one
        cell (its table index and the cell)."""
        if position + 1 >= len(self.body) or self.body[position + 1].tag != W_TBL:
            return None
        table = self.body[position + 1]
        rows = list(table.iterchildren(W_TR))
        cells = {id(tc): tc for tc in _grid(rows[0]) if tc is not None} if len(rows) == 1 else {}
        if len(cells) != 1:
            return None
        return self.t_index[table], next(iter(cells.values()))

    def _next_paragraph(self, position: int) -> Element | None:
        if position + 1 < len(self.body) and self.body[position + 1].tag == W_P:
            return self.body[position + 1]
        return None

    def _paragraph(self, element: Element, position: int) -> None:
        index = self.p_index[element]
        text = paragraph_text(element).strip()
        if not text:
            return
        level = _heading_level(self.paragraphs[index])
        if level is not None and not self._heading_asks(text, position):
            while self.headings and self.headings[-1][0] >= level:
                self.headings.pop()
            self.headings.append((level, " ".join(text.split())))
            return
        own = choice_in([element])
        if own is not None:
            text = own.prompt  # a question with its own check boxes: the text before them
        numbered, shown = self.numbers.get(element, (False, None))
        written, rest = split_written_number(text)
        following = self._next_paragraph(position)
        boxes = own
        if boxes is None and following is not None:
            below = choice_in([following])  # a line of boxes, not a question with its own
            boxes = below if below is not None and not below.prompt else None
        if boxes is not None:
            slot, current = True, boxes.current
        else:
            slot, current = ((False, None) if following is None
                             else _slot(following, self.answer_styles))
            if following is not None and slot and _heading_level(
                    self.paragraphs[index + 1]) is not None:
                slot = False
        if not paragraph_asks(rest):
            return
        box = self._answer_box(position) if own is None else None
        if box is not None and (numbered or written or rest.endswith("?")):
            # A bordered box under the question, for its answer.
            self._add_boxed_question(index, rest, written or shown, *box)
            return
        if not (numbered or written):
            # An unnumbered question counts only above (or with) an explicit answer place.
            explicit = own is not None or (
                following is not None and slot and bool(paragraph_text(following).strip()))
            if not (explicit and rest.endswith("?")):
                return
        if boxes is not None:
            self._add_choice_question(index, position, rest, written or shown, boxes,
                                      own is not None)
        else:
            self._add_paragraph_question(index, rest, written or shown, following, slot,
                                         current)

    def _add_paragraph_question(self, index: int, text: str, qid: str | None,
                                following: Element | None, slot: bool,
                                current: str | None) -> None:
        if following is not None and slot:
            allowed = _dropdown_values(following)
            target = Target(TargetRole.ANSWER, f"paragraph:{index + 1}", allowed, current,
                            kind=value_kind(allowed))
            self.scan.slots.append((index + 1, following))
        else:
            target = Target(TargetRole.ANSWER, f"after:{index}")
            self.scan.after_targets += 1
        self.scan.found.append(_Found(" ".join(text.split()), qid, self.section,
                                      f"paragraph {index + 1}", target))

    def _add_boxed_question(self, index: int, text: str, qid: str | None, table: int,
                            cell: Element) -> None:
        allowed = _dropdown_values(cell)
        target = Target(TargetRole.ANSWER, f"table:{table}:0:0", allowed,
                        _current_after_label(cell), kind=value_kind(allowed))
        self.scan.found.append(_Found(" ".join(text.split()), qid, self.section,
                                      f"paragraph {index + 1}", target))

    def _asks(self, paragraph: Element, text: str) -> bool:
        """Whether a paragraph is a question of its own ("3. Describe your backups:"), not
        one labelled as an answer place ("Comments: ...")."""
        if _ANSWER_LABEL.match(text) or _NOTES_LABEL.match(text):
            return False
        numbered = self.numbers.get(paragraph, (False, None))[0]
        written, rest = split_written_number(text)
        return numbered or written is not None or paragraph_asks(rest)

    def _add_choice_question(self, index: int, position: int, text: str, qid: str | None,
                             boxes: Choice, own: bool) -> None:
        """A question answered by ticking a box: in its own paragraph or the next one. The
        supporting text goes to the labelled paragraph below the boxes ("Comments: ..."), or
        to a new paragraph inserted there."""
        at, at_position = (index, position) if own else (index + 1, position + 1)
        answer = Target(TargetRole.ANSWER, f"paragraph:{at}", boxes.labels, boxes.current,
                        kind=TargetKind.CHECK_BOXES)
        below = self._next_paragraph(at_position)
        slot, current = (False, None) if below is None else _slot(below, self.answer_styles)
        shown = "" if below is None else paragraph_text(below).strip()
        label = _label_end(shown)
        if label is not None:
            rest = shown[label:].strip()
            slot, current = True, (rest if rest and not is_placeholder(rest) else None)
        if (slot and shown and choice_in([below]) is None
                and _heading_level(self.paragraphs[at + 1]) is None
                and not self._asks(below, shown)):
            notes = Target(TargetRole.NOTES, f"paragraph:{at + 1}", (), current)
        else:
            notes = Target(TargetRole.NOTES, f"after:{at}")
            self.scan.after_targets += 1
        self.scan.found.append(_Found(" ".join(text.split()), qid, self.section,
                                      f"paragraph {index + 1}", answer, notes))


class _TableReader:
    """Questions from one body table: a header-named layout, or two columns of Q and A."""

    def __init__(self, walker: _Walker, tbl: Element, index: int) -> None:
        self.walker = walker
        self.index = index
        self.rows = list(tbl.iterchildren(W_TR))
        self.grids = [_grid(tr) for tr in self.rows]
        self.header: list[str] = []  # the header row's texts, once read

    def read(self) -> None:
        found = self._header_layout()
        if found is not None:
            header_row, columns = found
            kind = "header"
        elif self._two_columns():
            header_row, columns, kind = None, HeaderColumns(question=0, answer=1), "two_column"
        elif (pairs := self._stacked()) is not None:
            self.walker.scan.tables.append({
                "table": self.index, "kind": "stacked", "header_row": None,
                "columns": None, "yes_no": False, "questions": self._read_stacked(pairs)})
            return
        else:
            return
        count = self._read_rows(header_row, columns, kind == "two_column")
        self.walker.scan.tables.append({
            "table": self.index, "kind": kind, "header_row": header_row,
            "columns": {"id": columns.id, "question": columns.question,
                        "section": columns.section, "answer": columns.answer,
                        "notes": columns.notes,
                        "choices": {c: label for c, label in columns.choices} or None},
            "yes_no": columns.yes_no, "questions": count,
        })

    def _header_layout(self) -> tuple[int, HeaderColumns] | None:
        options = self.walker.options
        if options.header_row is not None:
            candidates = [options.header_row - 1]
        else:
            candidates = list(range(min(3, len(self.rows))))
        for row in candidates:
            if not 0 <= row < len(self.rows) or _merged_across(self.grids[row]):
                continue
            headers = _header_texts(self.grids[row])
            columns = classify_headers(headers, options)
            if columns.question is None:
                continue
            if columns.answer is None and len(headers) == 2 and not headers[1 - columns.question]:
                # "Question | (blank)": the unnamed column is where the answers go.
                columns = HeaderColumns(columns.question, answer=1 - columns.question)
            if columns.answer is not None or columns.choices:
                return row, columns
        return None

    def _two_columns(self) -> bool:
        """Two columns, and at least half the rows with a left cell ask a question."""
        lefts = [cell_text(g[0]) for g in self.grids
                 if len(g) == 2 and g[0] is not None and not _merged_across(g)]
        lefts = [t for t in lefts if t]
        questions = [t for t in lefts if paragraph_asks(split_written_number(t)[1])]
        return bool(questions) and 2 * len(questions) >= len(lefts) and all(
            len(g) == 2 for g in self.grids if not _merged_across(g))

    def _asks(self, row: int) -> tuple[str | None, str] | None:
        """(id, question) when the row asks something: one question cell, maybe after a
        short id cell ("1.1 | Describe ..."); None otherwise."""
        cells: list[Element] = []
        for tc in self.grids[row]:
            if tc is not None and not any(tc is c for c in cells):
                cells.append(tc)
        texts = [" ".join(cell_text(tc).split()) for tc in cells]
        texts = [t for t in texts if t]
        qid: str | None
        if len(texts) == 2 and len(texts[0]) <= 12 and len(texts[0].split()) == 1:
            qid, text = texts[0].rstrip("."), texts[1]
        elif len(texts) == 1:
            qid, text = split_written_number(texts[0])
        else:
            return None
        return (qid, text) if paragraph_asks(text) else None

    def _stacked(self) -> list[tuple[int, int]] | None:
        """Each question row followed by a full-width row for its answer ("Response:",
        empty, or a placeholder): the (question row, answer row) pairs, when at least two
        rows pair so and no asking row goes without an answer row."""
        pairs: list[tuple[int, int]] = []
        asking = 0
        for row in range(len(self.rows)):
            if self._asks(row) is None:
                continue
            asking += 1
            below = row + 1
            if (below < len(self.rows) and _merged_across(self.grids[below])
                    and self._asks(below) is None):
                pairs.append((row, below))
        return pairs if len(pairs) >= 2 and len(pairs) == asking else None

    def _read_stacked(self, pairs: list[tuple[int, int]]) -> int:
        answers = dict(pairs)
        taken = set(answers.values())
        sub_section: str | None = None
        for row in range(len(self.rows)):
            if row in taken:
                continue
            if row not in answers:
                grid = self.grids[row]
                spanning = grid[0] if grid else None
                if _merged_across(grid) and spanning is not None:  # a section row
                    sub_section = " ".join(cell_text(spanning).split()) or sub_section
                continue
            asked = self._asks(row)
            if asked is None:
                continue
            qid, text = asked
            cell = self.grids[answers[row]][0]
            if cell is None:
                continue
            allowed = _dropdown_values(cell)
            answer = Target(TargetRole.ANSWER, f"table:{self.index}:{answers[row]}:0",
                            allowed, _current_after_label(cell), kind=value_kind(allowed))
            first = self.grids[row][0]
            if qid is None and first is not None:
                qid = self._shown_number(first)  # a Word list number, not typed text
            section = self.walker.section + ((sub_section,) if sub_section else ())
            self.walker.scan.found.append(_Found(
                text, qid, section, f"table {self.index + 1}, row {row + 1}", answer))
        return len(pairs)

    def _cell(self, row: int, col: int | None) -> Element | None:
        if col is None or col >= len(self.grids[row]):
            return None
        return self.grids[row][col]

    def _read_rows(self, header_row: int | None, columns: HeaderColumns,
                   require_question: bool) -> int:
        count = 0
        sub_section: str | None = None
        header = _header_texts(self.grids[header_row]) if header_row is not None else None
        self.header = header or []
        first = 0 if header_row is None else header_row + 1
        for row in range(first, len(self.rows)):
            grid = self.grids[row]
            if _merged_across(grid):
                sub_section = " ".join(cell_text(grid[0]).split()) or sub_section
                continue
            q_cell = self._cell(row, columns.question)
            if q_cell is None or _continues_merge(q_cell):
                continue
            text = cell_text(q_cell)
            if not text or (header is not None and _header_texts(grid) == header):
                continue
            found = self._row_question(row, text, q_cell, columns, sub_section,
                                       require_question)
            if found is not None:
                self.walker.scan.found.append(found)
                count += 1
        return count

    def _row_question(self, row: int, text: str, q_cell: Element, columns: HeaderColumns,
                      sub_section: str | None, require_question: bool) -> _Found | None:
        written, rest = split_written_number(text)
        if require_question and not paragraph_asks(rest):
            return None
        qid = self._id(row, columns.id) or written or self._shown_number(q_cell)
        if columns.id is None and written is None:
            rest = text
        section = self.walker.section
        section_cell = self._cell(row, columns.section)
        if section_cell is not None and cell_text(section_cell):
            section += (" ".join(cell_text(section_cell).split()),)
        if sub_section:
            section += (sub_section,)
        if columns.choices:
            answer, boxes = self._choice_target(row, columns.choices), None
        else:
            answer, boxes = self._target(row, columns.answer, TargetRole.ANSWER,
                                         columns.yes_no)
        notes, _ = self._target(row, columns.notes, TargetRole.NOTES, False)
        if notes is None and answer is not None and boxes is not None:
            notes = self._below_boxes(answer, boxes)
        return _Found(" ".join(rest.split()), qid, section,
                      f"table {self.index + 1}, row {row + 1}", answer, notes)

    def _id(self, row: int, col: int | None) -> str | None:
        cell = self._cell(row, col)
        if cell is None:
            return None
        return cell_text(cell).rstrip(".") or self._shown_number(cell)

    def _shown_number(self, cell: Element) -> str | None:
        paragraphs = cell_paragraphs(cell)
        return self.walker.numbers.get(paragraphs[0], (False, None))[1] if paragraphs else None

    def _target(self, row: int, col: int | None, role: TargetRole,
                yes_no: bool) -> tuple[Target | None, Choice | None]:
        """The answer place in this row's column ``col``, and its check boxes if it has any."""
        if col is None or self._cell(row, col) is None:
            return None, None
        cell = _merge_origin(self.rows, row, col)
        if cell is None:
            return None, None
        ref = f"table:{self.index}:{row}:{col}"
        boxes = choice_in(cell_paragraphs(cell))
        if boxes is not None:
            # Check boxes are a verdict to tick, never a place for notes.
            target = (Target(role, ref, boxes.labels, boxes.current,
                             kind=TargetKind.CHECK_BOXES)
                      if role is TargetRole.ANSWER else None)
            return target, boxes
        allowed = _dropdown_values(cell) or (YES_NO_VALUES if yes_no else ())
        limit = stated_limit(self.header[col]) if col < len(self.header) else None
        return Target(role, ref, allowed, _current(cell_text(cell), cell), limit,
                      value_kind(allowed)), None

    def _choice_target(self, row: int, choices: tuple[tuple[int, str], ...]) -> Target | None:
        """One answer place over the row's choice cells ("table:<t>:<row>:<first>-<last>"),
        whose allowed values are the choices' headers; the marked one is the current value."""
        cells = [_merge_origin(self.rows, row, column) for column, _ in choices]
        if any(cell is None for cell in cells) or len(set(map(id, cells))) < len(cells):
            return None  # merged across the choices: not a place to mark
        marked = [label for (_, label), cell in zip(choices, cells, strict=True)
                  if cell is not None and _marked(cell)]
        return Target(TargetRole.ANSWER,
                      f"table:{self.index}:{row}:{choices[0][0]}-{choices[-1][0]}",
                      tuple(label for _, label in choices), marked[0] if marked else None,
                      kind=TargetKind.CHOICE_CELLS)

    @staticmethod
    def _below_boxes(answer: Target, boxes: Choice) -> Target:
        """Without a notes column, a check-box cell takes its supporting text below the
        boxes, in the same cell; what is there already is the current note."""
        cell = next(boxes.paragraphs[-1].iterancestors(W_TC))
        text = "\n".join(paragraph_text(p) for p in _below(cell, boxes)).strip()
        if _PROMPT.match(text):
            text = ""  # "If yes, describe: ____" is where the note goes, not a note
        return Target(TargetRole.NOTES, f"{answer.ref}:below", (), text or None)


# --- extraction ----------------------------------------------------------------------------------


def _open(path: Path) -> DocxDocument:
    import docx

    try:
        return docx.Document(str(path))
    except Exception as exc:  # python-docx raises many types for a damaged package
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise DDQError(ErrorCode.UNREADABLE_FILE,
                       f"{path}: not a readable DOCX file ({reason})") from exc


_paragraph_styles = xpath("w:style[@w:type='paragraph']")
_ANSWER_STYLE_NAME = re.compile(r"\b(?:answers?|responses?)\b", re.IGNORECASE)


def _answer_styles(document: DocxDocument) -> tuple[frozenset[str], set[str]]:
    """Styles named for answers ("DDQ Response"), and the default style (never one)."""
    try:
        styles = list(_paragraph_styles(document.styles.element))
    except (KeyError, AttributeError):
        return frozenset(), set()
    named = frozenset(s.get(w("styleId")) or "" for s in styles
                      if _ANSWER_STYLE_NAME.search(val(s.find(w("name"))) or ""))
    default = {s.get(w("styleId")) or "" for s in styles if s.get(w("default")) in ("1", "true")}
    return named - default, default


def _scan(document: DocxDocument, options: ExtractOptions) -> _Scan:
    """Walk the body; walk again when its empty answer places show a style for answers."""
    named, default = _answer_styles(document)
    first = _Walker(document, options, named).run()
    learned = {_style_id(p) for _, p in first.slots} - {None} - default
    if not learned - named:
        return first
    return _Walker(document, options, named | frozenset(s for s in learned if s)).run()


def _keyed(found: Sequence[_Found]) -> tuple[list[ExtractedQuestion], list[str]]:
    keys, warnings = assign_keys([Placed(f.qid, f.location) for f in found],
                                 id_name="question number")
    questions = [
        ExtractedQuestion(key=key, text=f.text, qid=f.qid, section=f.section,
                          location=f.location, answer=f.answer, notes=f.notes)
        for key, f in zip(keys, found, strict=True)
    ]
    return questions, warnings


def _style_name(document: DocxDocument, index: int | None) -> str | None:
    if index is None:
        return None
    try:
        style = document.paragraphs[index].style
    except (KeyError, ValueError, AttributeError, IndexError):
        return None
    return style.name if style is not None else None


def extract_docx(path: Path, options: ExtractOptions = ExtractOptions(),
                 limits: PackageLimits = DEFAULT_LIMITS) -> Extraction:
    """Questions from a Word document; see the module docstring for the shapes found."""
    check_package(path, "DOCX", limits)
    document = _open(path)
    scan = _scan(document, options)
    if not scan.found:
        raise DDQError(ErrorCode.NO_QUESTIONS,
                       f"{path}: no questions found (looked for numbered question paragraphs "
                       "and question/answer tables)")
    questions, warnings = _keyed(scan.found)
    layout = {
        "paragraph_questions": sum(1 for f in scan.found if f.location.startswith("paragraph")),
        "after_targets": scan.after_targets,
        "answer_style": _style_name(document, _convention_index(scan)),
        "tables": scan.tables,
    }
    return Extraction(str(path), FileFormat.DOCX, questions, layout, scan.warnings + warnings)


# --- writing -------------------------------------------------------------------------------------

_CONTENT = frozenset(w(t) for t in (
    "r", "hyperlink", "ins", "del", "smartTag", "fldSimple", "sdt", "proofErr", "customXml",
    "moveFrom", "moveTo", "dir", "bdo"))
_MARK_ONLY = frozenset(w(t) for t in ("ins", "del", "moveFrom", "moveTo", "rPrChange"))
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_REF = re.compile(r"^(?:(?P<kind>paragraph|after):(?P<p>\d+)"
                  r"|table:(?P<t>\d+):(?P<row>\d+):(?P<col>\d+)"
                  r"(?:(?P<below>:below)|-(?P<last>\d+))?)$")
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


def _below(tc: Element, boxes: Choice) -> list[Element]:
    """The paragraphs of a cell after its last check-box paragraph."""
    paragraphs = list(cell_paragraphs(tc))
    last = max(paragraphs.index(p) for p in boxes.paragraphs)
    return paragraphs[last + 1:]


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


def _boxes_at(kind: str, element: Element) -> Choice | None:
    if kind == "paragraph":
        return choice_in([element])
    if kind in ("cell", "below"):
        return choice_in(cell_paragraphs(element))
    return None


@dataclass(frozen=True, slots=True)
class _Convention:
    """How the document's answer paragraphs look, for the ones it is missing."""

    ppr: Element | None
    rpr: Element | None


def _convention_index(scan: _Scan) -> int | None:
    """The first answer paragraph of the most common answer style (its body index)."""
    if not scan.slots:
        return None

    common = Counter(_style_id(p) for _, p in scan.slots).most_common(1)[0][0]
    return next(i for i, p in scan.slots if _style_id(p) == common)


def _convention(scan: _Scan) -> Element | None:
    index = _convention_index(scan)
    return None if index is None else dict(scan.slots)[index]


def _convention_of(document: DocxDocument) -> _Convention:
    try:
        model = _convention(_scan(document, ExtractOptions()))
    except DDQError:
        model = None
    return _Convention(None, None) if model is None else _look_of(model)


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


def _bad_ref(ref: str, why: str) -> DDQError:
    return DDQError(ErrorCode.INVALID_INPUT, f"{ref!r}: {why}")


def _resolve(ref: str, paragraphs: Sequence[Element], tables: Sequence[Element]
             ) -> tuple[str, Element]:
    """The element an answer ref names, in the document as it was read."""
    match = _REF.match(ref)
    if match is None:
        raise _bad_ref(ref, "not a DOCX answer place (paragraph:<p>, after:<p>, "
                            "table:<t>:<row>:<col> or table:<t>:<row>:<col>:below)")
    if match.group("kind"):
        index = int(match.group("p"))
        if index >= len(paragraphs):
            raise _bad_ref(ref, f"the document has {len(paragraphs)} paragraphs")
        return match.group("kind"), paragraphs[index]
    t, row, col = int(match.group("t")), int(match.group("row")), int(match.group("col"))
    if t >= len(tables):
        raise _bad_ref(ref, f"the document has {len(tables)} tables")
    rows = list(tables[t].iterchildren(W_TR))
    if row >= len(rows):
        raise _bad_ref(ref, f"table {t} has {len(rows)} rows")
    cell = _merge_origin(rows, row, col) if col < len(_grid(rows[row])) else None
    if cell is None:
        raise _bad_ref(ref, f"table {t}, row {row} has no cell in column {col}")
    if match.group("last"):
        return "choices", rows[row]
    return ("below" if match.group("below") else "cell"), cell


def _marked(cell: Element) -> bool:
    """Whether a choice cell is marked: its one check box ticked, or any text but "☐"."""
    box = lone_box(cell_paragraphs(cell))
    return box.ticked if box is not None else is_marked(cell_text(cell))


_ChoiceHeader = tuple[int, list[str], tuple[str, str]]  # header row, its names, the marks


def _choice_marks(ref: str, tr: Element, value: str,
                  known: dict[tuple[int, int, int], _ChoiceHeader]) -> list[tuple[Element, str]]:
    """What a row of choice cells ("Yes | No | N/A" columns) holds once ``value`` is marked:
    the form's own mark in the cell under that header, the other cells blank (see
    ``choice_marks``); "" clears them all. ``known`` keeps each table's choice header."""
    match = _REF.match(ref)
    first, last = (int(match.group("col")), int(match.group("last"))) if match else (0, 0)
    if not first < last <= first + _MAX_CHOICES:
        raise _bad_ref(ref, "a range of choice cells is part of one row, e.g. table:0:3:1-3")
    table = tr.getparent()
    rows = list(table.iterchildren(W_TR))
    at = rows.index(tr)

    def texts(row: int) -> list[str]:
        cells = (_merge_origin(rows, row, column) for column in range(first, last + 1))
        return [cell_text(c).strip() if c is not None else "" for c in cells]

    found = known.get((id(table), first, last))
    if found is None or found[0] >= at:
        found = None
        for row in reversed(range(at)):
            above = texts(row)
            if all(above) and choice_columns(dict(enumerate(above))):
                found = (row, above, choice_marks(text for below in range(row + 1, len(rows))
                                                  for text in texts(below)))
                known[(id(table), first, last)] = found
                break
    cells = [_merge_origin(rows, at, column) for column in range(first, last + 1)]
    if found is None or any(cell is None for cell in cells):
        raise _bad_ref(ref, "no header row above these cells names the choices "
                            "(e.g. Yes / No / N/A)")
    _, header, marks = found
    return [(cell, text) for cell, text in zip(cells, marked_row(ref, header, value, marks),
                                                strict=True) if cell is not None]


_MAX_CHOICES = 12  # cells one range of choices may span


def write_docx(src: Path, dst: Path, values: Mapping[str, str]) -> int:
    """Write ``values`` (by answer ref) into a copy of ``src`` at ``dst``; see module docs.

    Every ref is resolved against the document as it was read before anything is inserted,
    so "after:" paragraphs never shift the others. Returns the number of values written.
    """
    refuse_overwrite(src, dst)
    check_package(src, "DOCX")
    document = _open(src)
    body = document.element.body
    paragraphs = list(body.iterchildren(W_P))
    tables = list(body.iterchildren(W_TBL))
    places = [(ref, *_resolve(ref, paragraphs, tables), _clean_value(value))
              for ref, value in values.items()]
    # Every check-box place is checked before anything changes: a bad value writes nothing.
    ticks: dict[str, tuple[Choice, int]] = {}
    boxes_below: dict[str, Choice] = {}
    marks: dict[str, list[tuple[Element, str]]] = {}
    choice_headers: dict[tuple[int, int, int], _ChoiceHeader] = {}
    for ref, kind, element, text in places:
        if kind == "choices":
            marks[ref] = _choice_marks(ref, element, text, choice_headers)
            continue
        boxes = _boxes_at(kind, element)
        if kind == "below":
            if boxes is None:
                raise _bad_ref(ref, "the cell has no check boxes to write below")
            boxes_below[ref] = boxes
        elif boxes is not None:
            index = boxes.index_of(text)
            if index is None:
                raise _bad_ref(ref, f"the answer place is a set of check boxes "
                                    f"({' / '.join(boxes.labels)}); {text!r} is none of them")
            ticks[ref] = (boxes, index)
    convention = (_convention_of(document) if any(p[1] == "after" for p in places)
                  else _Convention(None, None))
    writers: dict[str, Callable[[Element, str], None]] = {
        "paragraph": _write_paragraph, "cell": _write_cell,
        "after": lambda element, text: _insert_after(element, text, convention),
    }
    for ref, kind, element, text in places:
        if ref in marks:
            for cell, mark in marks[ref]:
                box = lone_box(cell_paragraphs(cell))
                if box is not None:  # a check box in each choice cell: tick it, keep it
                    set_box(box, is_marked(mark))
                else:
                    _write_cell(cell, mark)
        elif ref in ticks:
            boxes, index = ticks[ref]
            boxes.tick(index)
        elif ref in boxes_below:
            _write_below(element, boxes_below[ref], text)
        else:
            writers[kind](element, text)
    part = document.part
    try:
        with zipfile.ZipFile(src) as package:
            copy_with_parts(package, dst, {str(part.partname).lstrip("/"): part.blob})
    except OSError as exc:
        raise DDQError(ErrorCode.INVALID_INPUT, f"{dst}: cannot write the answered copy "
                                                f"({exc.strerror or exc})") from exc
    return len(places)
