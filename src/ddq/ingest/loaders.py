"""Pick the loader for a file by its extension and turn failures into clear errors.

Every file goes through the safe-open layer (:mod:`ddq.safe_open`) first: its size before it
is read, an Office package's limits and the work its XML holds before a parser sees it,
decoded text's characters and lines, a PDF's pages, characters and time while it is read.
Whatever a parser raises on a file's content is a :class:`DDQError` naming the file, so one
bad file is reported and the others of a batch are ingested.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import date
from pathlib import Path

from ddq.domain import LoadedDocument
from ddq.errors import DDQError, ErrorCode
from ddq.forms import DEFAULT_LIMITS, PackageLimits
from ddq.ingest.library_loaders import LibraryColumns, load_csv_library, load_xlsx_library
from ddq.ingest.questionnaire_library import answered_questionnaire, library_document
from ddq.ingest.text_loaders import (
    decode_text,
    load_docx,
    load_pdf,
    parse_html,
    parse_markdown,
    parse_plain_text,
)
from ddq.safe_open import check_package, check_text

SUPPORTED_SUFFIXES = frozenset(
    {".md", ".markdown", ".txt", ".text", ".html", ".htm", ".pdf", ".docx", ".xlsx", ".xlsm",
     ".csv", ".tsv"}
)


def load_file(path: Path, data: bytes, columns: LibraryColumns | None = None,
              limits: PackageLimits = DEFAULT_LIMITS) -> LoadedDocument:
    """Parse ``data`` (the bytes of ``path``) into blocks; raise :class:`DDQError` on bad input
    (whatever the parser raised, named by the file)."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        known = " ".join(sorted(SUPPORTED_SUFFIXES))
        raise DDQError(
            ErrorCode.UNSUPPORTED_FORMAT, f"{path}: unsupported file type {suffix!r} ({known})"
        )
    if not data.strip():
        raise DDQError(ErrorCode.EMPTY_FILE, f"{path}: the file is empty")
    if len(data) > limits.max_file_bytes:
        raise DDQError(ErrorCode.FILE_TOO_LARGE,
                       f"{path}: {len(data) / 1048576:.1f} MB is over the "
                       f"{limits.max_file_bytes / 1048576:.0f} MB limit for {limits.purpose}")
    try:
        document = _load(path, suffix, data, columns or LibraryColumns(), limits)
    except DDQError:
        raise
    except RecursionError as exc:
        raise DDQError(ErrorCode.UNSAFE_FILE,
                       f"{path}: nested too deeply to read; refusing it") from exc
    except Exception as exc:  # a parser's own error on hostile or broken content
        detail = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise DDQError(ErrorCode.UNREADABLE_FILE,
                       f"{path}: not a readable {suffix.lstrip('.').upper()} file "
                       f"({detail})") from exc
    if not any(block.text.strip() for block in document.blocks):
        raise DDQError(ErrorCode.EMPTY_FILE, f"{path}: no text could be extracted")
    return document


def _text(path: Path, data: bytes, limits: PackageLimits) -> str:
    text = decode_text(path, data)
    check_text(path, text, limits)
    return text


def _load(path: Path, suffix: str, data: bytes, columns: LibraryColumns,
          limits: PackageLimits) -> LoadedDocument:
    title = path.stem.replace("_", " ")
    if suffix in {".md", ".markdown"}:
        return parse_markdown(_text(path, data, limits), title=title)
    if suffix in {".txt", ".text"}:
        return parse_plain_text(_text(path, data, limits), title=title)
    if suffix in {".html", ".htm"}:
        return parse_html(_text(path, data, limits), title=title)
    if suffix == ".pdf":
        return load_pdf(path, limits)
    if suffix == ".docx":
        check_package(path, "DOCX", limits)
        return _questionnaire_or(path, lambda: load_docx(path), columns, limits)
    if suffix in {".xlsx", ".xlsm"}:
        check_package(path, "XLSX", limits)
        return _questionnaire_or(path, lambda: load_xlsx_library(path, columns), columns,
                                 limits)
    text = _text(path, data, limits)
    return _questionnaire_or(path, lambda: load_csv_library(path, text, columns), columns,
                             limits)


def _questionnaire_or(path: Path, otherwise: Callable[[], LoadedDocument],
                      columns: LibraryColumns, limits: PackageLimits) -> LoadedDocument:
    """An answered questionnaire (or a clean question/answer library, which is one) as
    library entries, through the questionnaire format layer; any other file by its own
    loader (a table of records, a policy document). Columns named by the user are the
    library loader's to read."""
    if columns.question is not None or columns.answer is not None:
        return otherwise()
    extraction = answered_questionnaire(path, limits)
    if extraction is None:
        return otherwise()
    owners: dict[str, tuple[str | None, date | None]] = {}
    if path.suffix.lower() != ".docx":
        # The library loader reads the owner and review-by columns, which the format layer
        # has no place for.
        try:
            with warnings.catch_warnings():
                # openpyxl's "Data Validation extension is not supported": the format layer
                # has read the dropdowns already; this pass only looks for owners.
                warnings.simplefilter("ignore", UserWarning)
                plain = otherwise()
        except DDQError:
            plain = None
        if plain is not None:
            owners = {" ".join(b.library_question.split()).casefold():
                      (b.library_owner, b.library_review_by)
                      for b in plain.blocks if b.library_question
                      and (b.library_owner or b.library_review_by)}
    return library_document(path, extraction, owners)
