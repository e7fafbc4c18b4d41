"""The questionnaire nouns, at their old path: they live in :mod:`ddq.forms` now.

Kept only while ``xlsx.py`` and ``sheets.py`` (being changed elsewhere) import them from
here; they move to ``ddq.forms`` with the workbook reader's split.
"""

from ddq.forms import (
    FORMULA_PREFIXES,
    YES_NO_VALUES,
    ExtractedQuestion,
    Extraction,
    ExtractOptions,
    FileFormat,
    SheetSummary,
    Target,
    TargetKind,
    TargetRole,
    neutralise,
)

__all__ = ["FORMULA_PREFIXES", "YES_NO_VALUES", "ExtractOptions", "ExtractedQuestion",
           "Extraction", "FileFormat", "SheetSummary", "Target", "TargetKind", "TargetRole",
           "neutralise"]
