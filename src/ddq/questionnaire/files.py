"""One entry point per operation, whatever the file's format: extract, write."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from ddq.errors import DDQError, ErrorCode
from ddq.forms import Extraction, ExtractOptions, FileFormat
from ddq.questionnaire.output import refuse_overwrite
from ddq.questionnaire.package import DEFAULT_LIMITS, PackageLimits

_SUFFIXES = {
    ".xlsx": FileFormat.XLSX,
    ".xlsm": FileFormat.XLSX,
    ".docx": FileFormat.DOCX,
    ".csv": FileFormat.CSV,
    ".tsv": FileFormat.CSV,
}
#: The file types a questionnaire may come as.
SUPPORTED_QUESTIONNAIRES = frozenset(_SUFFIXES)


def file_format(path: Path) -> FileFormat:
    fmt = _SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        if path.suffix.lower() in (".xls", ".doc"):
            raise DDQError(ErrorCode.UNSUPPORTED_FORMAT,
                           f"{path}: legacy binary Office files are not supported; save it as "
                           f"{'XLSX' if path.suffix.lower() == '.xls' else 'DOCX'} and try again")
        raise DDQError(ErrorCode.UNSUPPORTED_FORMAT,
                       f"{path}: questionnaires are read from .xlsx, .xlsm, .docx or .csv files")
    return fmt


def extract(path: Path, options: ExtractOptions | None = None,
            limits: PackageLimits = DEFAULT_LIMITS) -> Extraction:
    options = options or ExtractOptions()
    fmt = file_format(path)
    if fmt is FileFormat.XLSX:
        from ddq.questionnaire.xlsx import extract_xlsx

        return extract_xlsx(path, options, limits)
    if fmt is FileFormat.DOCX:
        from ddq.questionnaire.docx import extract_docx

        return extract_docx(path, options, limits)
    from ddq.questionnaire.csvfile import extract_csv

    return extract_csv(path, options, limits)


def write(src: Path, dst: Path, values: Mapping[str, str]) -> int:
    """Write ``values`` into a copy of ``src`` at ``dst``; never over ``src`` itself."""
    refuse_overwrite(src, dst)
    fmt = file_format(src)
    if file_format(dst) is not fmt:
        raise DDQError(ErrorCode.INVALID_INPUT,
                       f"{dst}: the answered file keeps the original's format ({fmt.value})")
    dst.parent.mkdir(parents=True, exist_ok=True)
    if fmt is FileFormat.XLSX:
        from ddq.questionnaire.xlsx import write_xlsx

        return write_xlsx(src, dst, values)
    if fmt is FileFormat.DOCX:
        from ddq.questionnaire.docx import write_docx

        return write_docx(src, dst, values)
    from ddq.questionnaire.csvfile import write_csv

    return write_csv(src, dst, values)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise DDQError(ErrorCode.UNREADABLE_FILE, f"{path}: {exc.strerror}") from exc
    return digest.hexdigest()
