"""The safe writes, at their old path: they live in :mod:`ddq.questionnaire.ooxml`.

Kept only while ``xlsx.py`` (being changed elsewhere) imports them from here."""

from ddq.questionnaire.ooxml import (
    output_mode,
    refuse_overwrite,
    replace_atomically,
    temporary_beside,
)

__all__ = ["output_mode", "refuse_overwrite", "replace_atomically", "temporary_beside"]
