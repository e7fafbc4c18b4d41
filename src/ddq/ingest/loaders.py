"""Pick the loader for a file by its extension and turn failures into clear errors."""

from __future__ import annotations

from pathlib import Path

from ddq.domain import LoadedDocument
from ddq.errors import DDQError, ErrorCode
from ddq.ingest.library_loaders import LibraryColumns, load_csv_library, load_xlsx_library
from ddq.ingest.text_loaders import (
    decode_text,
    load_docx,
    load_pdf,
    parse_html,
    parse_markdown,
    parse_plain_text,
)

SUPPORTED_SUFFIXES = frozenset(
    {".md", ".markdown", ".txt", ".text", ".html", ".htm", ".pdf", ".docx", ".xlsx", ".csv"}
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
        document = load_docx(path)
    elif suffix == ".xlsx":
        document = load_xlsx_library(path, columns)
    else:
        document = load_csv_library(path, decode_text(path, data), columns)
    if not any(block.text.strip() for block in document.blocks):
        raise DDQError(ErrorCode.EMPTY_FILE, f"{path}: no text could be extracted")
    return document
