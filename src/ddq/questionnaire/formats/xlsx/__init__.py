"""Excel workbooks (``.xlsx``, ``.xlsm``). Refs: ``<sheet name>!<cell>`` ("Vendor!D5"), or a
row's choice cells ``<sheet name>!<first>:<last>`` ("Vendor!C5:E5"), marked under the choice.

The reader itself is still :mod:`ddq.questionnaire.xlsx` (being changed elsewhere); until it
moves here, this format gives each of its answer places the kind and values the reader's
layout says (a Yes/No column without a dropdown takes Yes/No/N/A), so that nothing above the
format reads the layout or the cell grammar.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

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
)
from ddq.questionnaire.formats.base import QuestionnaireFormat


def _sheet_of(ref: str) -> str:
    return ref.rsplit("!", 1)[0]


def _typed(target: Target | None, yes_no: bool) -> Target | None:
    if target is None:
        return None
    if ":" in target.ref.rsplit("!", 1)[-1]:
        return replace(target, kind=TargetKind.CHOICE_CELLS)
    if target.allowed:
        return replace(target, kind=TargetKind.DROPDOWN)
    if yes_no and target.role is TargetRole.ANSWER:
        return replace(target, allowed=YES_NO_VALUES, kind=TargetKind.DROPDOWN)
    return replace(target, kind=TargetKind.TEXT)


def typed_places(extraction: Extraction) -> Extraction:
    """``extraction`` with each answer place's kind set, and Yes/No/N/A as the values of an
    answer column whose answers are all Yes/No (the layout's ``yes_no_column``)."""
    sheets = extraction.layout.get("sheets")
    yes_no = {name for name, info in sheets.items()
              if isinstance(info, dict) and info.get("yes_no_column")
              } if isinstance(sheets, dict) else set()

    def typed(question: ExtractedQuestion) -> ExtractedQuestion:
        sheet = _sheet_of(question.answer.ref) if question.answer is not None else ""
        return replace(question, answer=_typed(question.answer, sheet in yes_no),
                       notes=_typed(question.notes, False))

    extraction.questions = [typed(q) for q in extraction.questions]
    return extraction


class XlsxFormat(QuestionnaireFormat):
    format = FileFormat.XLSX
    suffixes = (".xlsx", ".xlsm")

    def extract(self, path: Path, options: ExtractOptions = ExtractOptions(),
                limits: PackageLimits = DEFAULT_LIMITS) -> Extraction:
        from ddq.questionnaire.xlsx import extract_xlsx

        return typed_places(extract_xlsx(path, options, limits))

    def write(self, source: Path, destination: Path, fills: Mapping[str, str]) -> int:
        from ddq.questionnaire.xlsx import write_xlsx

        return write_xlsx(source, destination, fills)
