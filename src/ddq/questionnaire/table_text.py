"""The shared text rules, at their old path: they live in :mod:`ddq.questionnaire.detect`.

Kept only while ``xlsx.py`` (being changed elsewhere) and a few callers outside this package
import them from here."""

from ddq.questionnaire.detect.choices import (
    choice_columns,
    choice_marks,
    choice_name,
    is_hedged,
    is_marked,
    is_plain,
    marked_row,
    verdict_of,
)
from ddq.questionnaire.detect.questions import (
    depth,
    is_placeholder,
    looks_like_question,
    numbered_inside,
    section_numbers,
    split_written_number,
    stated_limit,
)

__all__ = ["choice_columns", "choice_marks", "choice_name", "depth", "is_hedged", "is_marked",
           "is_placeholder", "is_plain", "looks_like_question", "marked_row", "numbered_inside",
           "section_numbers", "split_written_number", "stated_limit", "verdict_of"]
