"""The walk over a document's body in order: headings kept as the section, numbered
question paragraphs with the answer place after them, tables handed to the table reader."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ddq.forms import ExtractOptions, Target, TargetKind, TargetRole, value_kind
from ddq.questionnaire.detect.keys import Found
from ddq.questionnaire.detect.questions import is_placeholder, paragraph_asks, split_written_number
from ddq.questionnaire.formats.docx.body_xml import (
    W_P,
    W_SDT,
    W_TBL,
    W_TR,
    Element,
    paragraph_text,
    w,
)
from ddq.questionnaire.formats.docx.boxes import Choice, choice_in
from ddq.questionnaire.formats.docx.grid import _grid
from ddq.questionnaire.formats.docx.numbering import _list_numbers
from ddq.questionnaire.formats.docx.places import (
    _ANSWER_LABEL,
    _NOTES_LABEL,
    _current_after_label,
    _dropdown_values,
    _label_end,
    _Scan,
    _slot,
)
from ddq.questionnaire.formats.docx.tables import _TableReader

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument
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
        self.scan.found.append(Found(" ".join(text.split()), qid, self.section,
                                      f"paragraph {index + 1}", target))

    def _add_boxed_question(self, index: int, text: str, qid: str | None, table: int,
                            cell: Element) -> None:
        allowed = _dropdown_values(cell)
        target = Target(TargetRole.ANSWER, f"table:{table}:0:0", allowed,
                        _current_after_label(cell), kind=value_kind(allowed))
        self.scan.found.append(Found(" ".join(text.split()), qid, self.section,
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
        self.scan.found.append(Found(" ".join(text.split()), qid, self.section,
                                      f"paragraph {index + 1}", answer, notes))
