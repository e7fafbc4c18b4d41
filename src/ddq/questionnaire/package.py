"""The package checks, at their old path: they live in :mod:`ddq.questionnaire.ooxml`.

Kept only while ``xlsx.py`` (being changed elsewhere) imports them from here."""

from ddq.forms import DEFAULT_LIMITS, PackageLimits
from ddq.questionnaire.ooxml import check_file_size, check_package

__all__ = ["DEFAULT_LIMITS", "PackageLimits", "check_file_size", "check_package"]
