"""Which sheets of a workbook hold the questionnaire, and which are views of it.

Forms such as the HECVAT ship, beside the sheet the vendor fills in, sheets that copy it
with formulas: an analyst report (``='Vendor Response'!B12`` for each question, the vendor's
answer beside it), a summary, a standards crosswalk. Read as questionnaires they multiply
the questions to answer, and their answer places hold formulas. A sheet is such a *report*:

- when most of its question cells are formulas that refer to another sheet which itself
  holds questions with answer places (a copy of the questionnaire, or of another report:
  a summary built from the analyst report), or
- when most of its answer places hold formulas (the answers are computed, not given).

A sheet whose question cells draw their text from a sheet with no answer places (a hidden
or visible question bank, as HECVAT 3 does) is the questionnaire, and the bank it draws from
is not read as questions again.

The decision is made from what the reader already found on every sheet (:class:`SheetEvidence`),
so it does not depend on the order of the sheets.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Generic, TypeVar

from ddq.errors import ErrorCode
from ddq.forms import SheetSummary

Q = TypeVar("Q")

#: A sheet named in a formula: 'Vendor Response'!B12, Questions!B5, 'It''s'!A1.
_SHEET_REF = re.compile(r"(?:'((?:[^']|'')+)'|([A-Za-z_\u00c0-\uffff][\w.\u00c0-\uffff]*))!")


def referenced_sheets(formula: str) -> set[str]:
    """The sheets a formula refers to, by name ("'Vendor Response'!B12" → {"Vendor Response"})."""
    names = set()
    for quoted, plain in _SHEET_REF.findall(_without_strings(formula)):
        names.add(quoted.replace("''", "'") if quoted else plain)
    return names


def _without_strings(formula: str) -> str:
    """The formula with its string literals emptied ("'a!'" inside quotes is no reference)."""
    return re.sub(r'"(?:[^"]|"")*"', '""', formula)


@dataclass(slots=True)
class SheetEvidence:
    """What the reader found on one sheet: its question cells, the cells of its answer
    places in the question rows (``"B12"``), and the sheet's formulas by cell."""

    name: str
    question_cells: list[str]
    answer_cells: list[str]
    formulas: Mapping[str, str] = field(default_factory=dict)

    @property
    def has_answer_places(self) -> bool:
        """Whether the sheet has a column for the answers (whatever its cells hold)."""
        return bool(self.answer_cells)

    def copied_sheets(self) -> Counter[str]:
        """Sheet → how many question cells are formulas referring to it."""
        counts: Counter[str] = Counter()
        for cell in self.question_cells:
            formula = self.formulas.get(cell)
            if formula is not None:
                counts.update(referenced_sheets(formula) - {self.name})
        return counts

    def formula_answers(self) -> Counter[str]:
        """How many answer places are formulas (under ""), and the sheets they refer to."""
        counts: Counter[str] = Counter()
        for cell in self.answer_cells:
            formula = self.formulas.get(cell)
            if formula is not None:
                counts[""] += 1
                counts.update(referenced_sheets(formula) - {self.name})
        return counts


def _names(sheets: Iterable[str]) -> str:
    return ", ".join("'" + s + "'" for s in sorted(sheets))


def find_reports(evidence: list[SheetEvidence]) -> dict[str, str]:
    """Sheet → why it is not the questionnaire, for the sheets that are reports of it (or
    the bank its questions are drawn from). The other sheets are the questionnaire."""
    with_answers = {e.name for e in evidence if e.has_answer_places}
    reasons: dict[str, str] = {}
    banks: dict[str, set[str]] = {}
    for sheet in evidence:
        copied = sheet.copied_sheets()
        copying = sum(copied.values())
        sources = {name for name in copied if name in with_answers}
        if sources and copying * 2 > len(sheet.question_cells):
            reasons[sheet.name] = f"its questions are formulas copying {_names(sources)}"
        elif (answers := sheet.formula_answers())[""] * 2 > len(sheet.answer_cells):
            sources = set(answers) - {""}
            reasons[sheet.name] = "its answer places are formulas" + (
                f" copying {_names(sources)}" if sources else "")
        elif copying * 2 > len(sheet.question_cells) and sheet.has_answer_places:
            for name in copied:
                banks.setdefault(name, set()).add(sheet.name)
    for sheet in evidence:
        users = banks.get(sheet.name, set()) - set(reasons)
        if sheet.name not in reasons and users and not sheet.has_answer_places:
            reasons[sheet.name] = f"its questions are the source that {_names(users)} copies"
    return reasons


def answers_below(kinds: list[str]) -> bool:
    """Whether a sheet with no answer column holds its answers in the question column, one
    under each question ("Do you encrypt backups?" over "Yes, with AES-256."): ``kinds`` is,
    per row with text in the question column, "question", "text" (neither a question nor a
    styled heading) or another kind. Then its answered rows cannot be told from its
    questions; a list of questions with a heading now and then is not that."""
    asked = kinds.count("question")
    followed = sum(1 for this, below in pairwise(kinds)
                   if this == "question" and below == "text")
    return asked >= 3 and followed * 5 >= asked * 4


@dataclass(slots=True)
class SheetRead(Generic[Q]):
    """One sheet read on its own: its questions and layout, or why it gave none, the
    warnings it gave, and what ``find_reports`` needs to know about it."""

    questions: list[Q]
    layout: dict[str, Any]
    notes: list[str]
    evidence: SheetEvidence
    skipped: str | None = None  # the value for the layout's "skipped"
    reason: str | None = None  # the same, for people
    code: ErrorCode | None = None  # the error code of the reason, when it is a refusal


@dataclass(slots=True)
class ChosenSheets(Generic[Q]):
    """The questions of the sheets that hold the questionnaire, and an account of all."""

    questions: list[Q] = field(default_factory=list)
    layout: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    codes: set[ErrorCode] = field(default_factory=set)
    summaries: list[SheetSummary] = field(default_factory=list)
    reports: dict[str, str] = field(default_factory=dict)


def choose_sheets(order: list[str], read: Mapping[str, SheetRead[Q]], skipped: dict[str, str],
                  charts: list[str], *, named: bool) -> ChosenSheets[Q]:
    """Keep the questions of the sheets read that are not reports (all of them when the
    sheet was ``named``), in the workbook's ``order``; ``skipped`` holds the sheets not
    read (hidden: their state), ``charts`` the chart sheets."""
    chosen: ChosenSheets[Q] = ChosenSheets(skipped=dict(skipped))
    if not named:
        chosen.reports = find_reports([r.evidence for r in read.values() if r.questions])
    for name in order:
        one = read.get(name)
        if one is None:
            state = skipped.get(name, "hidden")
            chosen.summaries.append(SheetSummary(name, 0, f"{state} (name it with --sheet "
                                                          "to read it)"))
            continue
        if name in chosen.reports:
            chosen.skipped[name] = chosen.reports[name]
            chosen.summaries.append(SheetSummary(name, 0, chosen.reports[name]))
            continue
        chosen.notes.extend(one.notes)
        if one.code is not None:
            chosen.codes.add(one.code)
        if one.skipped is not None:
            chosen.skipped[name] = one.skipped
            chosen.summaries.append(SheetSummary(name, 0, one.reason))
            continue
        chosen.questions.extend(one.questions)
        chosen.layout[name] = one.layout
        chosen.summaries.append(SheetSummary(name, len(one.questions)))
    chosen.summaries += [SheetSummary(n, 0, "a chart sheet, not a worksheet") for n in charts]
    return chosen


def unanswerable_error(path: str, summaries: list[SheetSummary]) -> str:
    """The one line for a workbook none of whose sheets is the questionnaire."""
    why = "; ".join(f"'{s.name}': {s.skipped}" for s in summaries if s.skipped)
    return f"{path}: no sheet holds the questionnaire itself ({why})"
