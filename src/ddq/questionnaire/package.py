"""Checks a questionnaire file before any parser sees it.

An Office file is a zip package. Before it is parsed: its size is bounded, it must really be
a zip (an encrypted workbook is an OLE compound file, a legacy ``.xls`` too), and the sum of
its entries' uncompressed sizes, their number and their compression ratio are bounded, so a
zip bomb is refused from the central directory alone, without inflating anything. XML inside
is parsed with defusedxml (openpyxl uses it when installed), so entity expansion is refused.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from ddq.errors import DDQError, ErrorCode
from ddq.forms import DEFAULT_LIMITS, PackageLimits

__all__ = ["DEFAULT_LIMITS", "PackageLimits", "check_file_size", "check_package"]

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _article(kind: str) -> str:
    return "an" if kind[:1] in "AEFHILMNORSX" else "a"  # as the letters are spoken


def check_file_size(path: Path, limits: PackageLimits = DEFAULT_LIMITS) -> int:
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise DDQError(ErrorCode.NOT_FOUND, f"{path}: no such file") from exc
    except OSError as exc:
        raise DDQError(ErrorCode.UNREADABLE_FILE, f"{path}: {exc.strerror}") from exc
    if not path.is_file():
        raise DDQError(ErrorCode.UNREADABLE_FILE, f"{path}: not a file")
    if size == 0:
        raise DDQError(ErrorCode.EMPTY_FILE, f"{path}: the file is empty")
    if size > limits.max_file_bytes:
        raise DDQError(
            ErrorCode.FILE_TOO_LARGE,
            f"{path}: {size / 1048576:.1f} MB is over the {limits.max_file_bytes / 1048576:.0f} MB"
            " limit for a questionnaire",
        )
    return size


def check_package(path: Path, kind: str, limits: PackageLimits = DEFAULT_LIMITS) -> None:
    """Refuse a file that is not a safe zip package; ``kind`` ("XLSX", "DOCX") is for messages."""
    check_file_size(path, limits)
    with path.open("rb") as handle:
        head = handle.read(8)
    if head == _OLE_MAGIC:
        raise DDQError(
            ErrorCode.ENCRYPTED_FILE,
            f"{path}: the file is password-protected (or a legacy binary Office file); "
            f"remove the password or save it as {kind} and try again",
        )
    if not zipfile.is_zipfile(path):
        raise DDQError(ErrorCode.UNREADABLE_FILE,
                       f"{path}: not {_article(kind)} {kind} file (not a zip package)")
    try:
        with zipfile.ZipFile(path) as package:
            infos = package.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DDQError(ErrorCode.UNREADABLE_FILE, f"{path}: corrupt {kind} file ({exc})") from exc
    if len(infos) > limits.max_entries:
        raise DDQError(ErrorCode.UNSAFE_FILE,
                       f"{path}: {len(infos)} entries in the package is over the limit of "
                       f"{limits.max_entries}; refusing to open it")
    total = sum(i.file_size for i in infos)
    compressed = sum(i.compress_size for i in infos) or 1
    if total > limits.max_uncompressed_bytes or (
            total > 10 * 1024 * 1024 and total / compressed > limits.max_ratio):
        raise DDQError(ErrorCode.UNSAFE_FILE,
                       f"{path}: the package would expand to {total / 1048576:.0f} MB "
                       f"(ratio {total / compressed:.0f}:1); refusing to open a possible zip bomb")
    names = {i.filename for i in infos}
    if "[Content_Types].xml" not in names:
        raise DDQError(ErrorCode.UNREADABLE_FILE,
                       f"{path}: not {_article(kind)} {kind} file (a zip, but not an Office "
                       "package)")
