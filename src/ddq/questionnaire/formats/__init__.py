"""The questionnaire formats: one :class:`QuestionnaireFormat` per file kind, found by its
file ending in one registry (see :mod:`ddq.questionnaire.formats.registry`)."""

from ddq.questionnaire.formats.base import QuestionnaireFormat
from ddq.questionnaire.formats.registry import format_for, formats, register, supported_suffixes

__all__ = ["QuestionnaireFormat", "format_for", "formats", "register", "supported_suffixes"]
