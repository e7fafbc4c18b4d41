"""Pick the loader for a file by its extension and turn failures into clear errors."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import date
from pathlib import Path

from ddq.domain import LoadedDocument
from ddq.errors import DDQError, ErrorCode
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

SUPPORTED_SUFFIXES = frozenset(
    {".md", ".markdown", ".txt", ".text", ".html", ".htm", ".pdf", ".docx", ".xlsx", ".xlsm",
     ".csv", ".tsv"}
)


def load_file(path: Path, data: bytes, columns: LibraryColumns | None = None) -> LoadedDocument:
    """Parse ``data`` (the bytes of ``path``) into blocks; raise :class:`DDQError` on bad input."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        known = " ".join(sorted(SUPPORTED_SUFFIXES))
        raise DDQError(
            ErrorCode.UNSUPPORTED_FORMAT, f"{path}: unsupported file type {suffix!r} ({known})"
        )
    if not data.strip():
        raise DDQError(ErrorCode.EMPTY_FILE, f"{path}: the file is empty")
    columns = columns or LibraryColumns()
    title = path.stem.replace("_", " ")
    if suffix in {".md", ".markdown"}:
        document = parse_markdown(decode_text(path, data), title=title)
    elif suffix in {".txt", ".text"}:
        document = parse_plain_text(decode_text(path, data), title=title)
    elif suffix in {".html", ".htm"}:
        document = parse_html(decode_text(path, data), title=title)
    elif suffix == ".pdf":
        document = load_pdf(path)
    elif suffix == ".docx":
        document = _questionnaire_or(path, lambda: load_docx(path), columns)
    elif suffix in {".xlsx", ".xlsm"}:
        document = _questionnaire_or(path, lambda: load_xlsx_library(path, columns), columns)
    else:
        document = _questionnaire_or(
            path, lambda: load_csv_library(path, decode_text(path, data), columns), columns)
    if not any(block.text.strip() for block in document.blocks):
        raise DDQError(ErrorCode.EMPTY_FILE, f"{path}: no text could be extracted")
    return document


def _questionnaire_or(path: Path, otherwise: Callable[[], LoadedDocument],
                      columns: LibraryColumns) -> LoadedDocument:
    """An answered questionnaire (or a clean question/answer library, which is one) as
    library entries, through the questionnaire format layer; any other file by its own
    loader (a table of records, a policy document). Columns named by the user are the
    library loader's to read."""
    if columns.question is not None or columns.answer is not None:
        return otherwise()
    extraction = answered_questionnaire(path)
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
