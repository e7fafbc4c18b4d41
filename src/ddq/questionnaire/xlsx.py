"""Excel questionnaires, at their old path: the workbook format lives in
:mod:`ddq.questionnaire.formats.xlsx` (reading in ``reading``, writing in ``writing``).

Kept so that ``from ddq.questionnaire.xlsx import extract_xlsx, write_xlsx`` goes on
working for callers outside this project."""

from ddq.questionnaire.detect.headers import header_role
from ddq.questionnaire.detect.questions import looks_like_question
from ddq.questionnaire.formats.xlsx.reading import extract_xlsx
from ddq.questionnaire.formats.xlsx.writing import write_xlsx

__all__ = ["extract_xlsx", "header_role", "looks_like_question", "write_xlsx"]
