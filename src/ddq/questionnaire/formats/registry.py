"""Which format reads a file: the registered formats, by file ending.

The built-in formats register on first use; each imports its parsers only when it reads or
writes, so naming the supported endings costs nothing.
"""

from __future__ import annotations

from pathlib import Path

from ddq.errors import DDQError, ErrorCode
from ddq.questionnaire.formats.base import QuestionnaireFormat

_BY_SUFFIX: dict[str, QuestionnaireFormat] = {}
_LEGACY = {".xls": "XLSX", ".doc": "DOCX"}


def register(fmt: QuestionnaireFormat) -> None:
    """Make ``fmt`` the reader of its suffixes (a later registration wins)."""
    for suffix in fmt.suffixes:
        _BY_SUFFIX[suffix.lower()] = fmt


def _builtins() -> dict[str, QuestionnaireFormat]:
    if not _BY_SUFFIX:
        from ddq.questionnaire.formats.csv import CsvFormat
        from ddq.questionnaire.formats.docx import DocxFormat
        from ddq.questionnaire.formats.xlsx import XlsxFormat

        for fmt in (XlsxFormat(), DocxFormat(), CsvFormat()):
            register(fmt)
    return _BY_SUFFIX


def formats() -> list[QuestionnaireFormat]:
    """Every registered format, once each."""
    seen: dict[int, QuestionnaireFormat] = {}
    for fmt in _builtins().values():
        seen.setdefault(id(fmt), fmt)
    return list(seen.values())


def supported_suffixes() -> frozenset[str]:
    """The file endings a questionnaire may have."""
    return frozenset(_builtins())


def format_for(path: Path) -> QuestionnaireFormat:
    """The format that reads ``path``, by its ending; an unknown ending is refused."""
    suffix = path.suffix.lower()
    fmt = _builtins().get(suffix)
    if fmt is not None:
        return fmt
    if suffix in _LEGACY:
        raise DDQError(ErrorCode.UNSUPPORTED_FORMAT,
                       f"{path}: legacy binary Office files are not supported; save it as "
                       f"{_LEGACY[suffix]} and try again")
    endings = list(_builtins())
    raise DDQError(ErrorCode.UNSUPPORTED_FORMAT,
                   f"{path}: questionnaires are read from {', '.join(endings[:-1])} or "
                   f"{endings[-1]} files")
