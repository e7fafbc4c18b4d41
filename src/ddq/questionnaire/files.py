"""One entry point per operation, whatever the file's format: extract, write.

Both go through the format registry (:mod:`ddq.questionnaire.formats`): extraction, export,
ingestion of answered questionnaires and the API all read and write files here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from ddq.errors import DDQError, ErrorCode
from ddq.forms import DEFAULT_LIMITS, Extraction, ExtractOptions, FileFormat, PackageLimits
from ddq.questionnaire.formats import format_for, supported_suffixes
from ddq.questionnaire.ooxml import refuse_overwrite

#: The file types a questionnaire may come as.
SUPPORTED_QUESTIONNAIRES = supported_suffixes()


def file_format(path: Path) -> FileFormat:
    return format_for(path).format


def extract(path: Path, options: ExtractOptions | None = None,
            limits: PackageLimits = DEFAULT_LIMITS) -> Extraction:
    """The questions of ``path``; whatever a reader raises on a file's content is a
    DDQError naming the file (the safe-open layer has bounded it before any reader ran)."""
    fmt = format_for(path)
    try:
        return fmt.extract(path, options or ExtractOptions(), limits)
    except DDQError:
        raise
    except RecursionError as exc:
        raise DDQError(ErrorCode.UNSAFE_FILE,
                       f"{path}: nested too deeply to read; refusing it") from exc
    except Exception as exc:  # a parser's own error on broken content
        detail = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise DDQError(ErrorCode.UNREADABLE_FILE,
                       f"{path}: not a readable {fmt.format.value.upper()} file "
                       f"({detail})") from exc


def write(src: Path, dst: Path, values: Mapping[str, str]) -> int:
    """Write ``values`` into a copy of ``src`` at ``dst``; never over ``src`` itself."""
    refuse_overwrite(src, dst)
    fmt = format_for(src)
    if format_for(dst).format is not fmt.format:
        raise DDQError(ErrorCode.INVALID_INPUT,
                       f"{dst}: the answered file keeps the original's format "
                       f"({fmt.format.value})")
    dst.parent.mkdir(parents=True, exist_ok=True)
    return fmt.write(src, dst, values)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise DDQError(ErrorCode.UNREADABLE_FILE, f"{path}: {exc.strerror}") from exc
    return digest.hexdigest()
