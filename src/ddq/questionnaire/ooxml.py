"""Office packages in and out, safely: the checks before any parser sees a file, the copy
that replaces some parts and keeps every other byte, and the write that never leaves half a
file or overwrites the original.

An Office file is a zip package. Before it is parsed: its size is bounded, it must really be
a zip (an encrypted workbook is an OLE compound file, a legacy ``.xls`` too), and the sum of
its entries' uncompressed sizes, their number and their compression ratio are bounded, so a
zip bomb is refused from the central directory alone, without inflating anything. XML inside
is parsed with defusedxml (openpyxl uses it when installed), so entity expansion is refused.
The size check and the writes serve CSV files too.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO

from ddq.errors import DDQError, ErrorCode
from ddq.forms import DEFAULT_LIMITS, PackageLimits

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


# --- in: bounded before parsing ----------------------------------------------------------------


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


# --- out: never over the original, never half-written --------------------------------------


def refuse_overwrite(src: Path, dst: Path) -> None:
    """An answered copy must never replace the questionnaire it was made from (by path,
    symlink or hard link)."""
    same = dst.resolve() == src.resolve()
    if not same and dst.exists():
        try:
            same = os.path.samefile(src, dst)
        except OSError:
            same = False
    if same:
        raise DDQError(ErrorCode.INVALID_INPUT,
                       f"{dst}: an export never overwrites the original; choose another "
                       "output path")


def output_mode(dst: Path) -> int:
    """Permissions for a written file: a replaced file keeps its own, a new one gets the
    usual ones (a temporary file from mkstemp is owner-only)."""
    if dst.exists():
        return dst.stat().st_mode & 0o777
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def temporary_beside(dst: Path, suffix: str = ".tmp") -> tuple[int, str]:
    """A temporary file in ``dst``'s folder, to be renamed over ``dst`` once complete."""
    return tempfile.mkstemp(prefix=f".{dst.name}.", suffix=suffix, dir=dst.parent)


def _replace_with(dst: Path, fill: Callable[[IO[bytes]], object], suffix: str) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    mode = output_mode(dst)
    fd, tmp = temporary_beside(dst, suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            fill(handle)
        os.chmod(tmp, mode)
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def replace_atomically(dst: Path, data: bytes) -> None:
    """Write next to ``dst`` and rename, so a failed export leaves no half-written file."""
    _replace_with(dst, lambda handle: handle.write(data), ".tmp")


def _copy_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    copy = zipfile.ZipInfo(info.filename, info.date_time)
    copy.compress_type = info.compress_type
    copy.external_attr = info.external_attr
    copy.create_system = info.create_system
    copy.comment = info.comment
    return copy


def copy_with_parts(package: zipfile.ZipFile, dst: Path, parts: Mapping[str, bytes],
                    added: Mapping[str, bytes] | None = None) -> None:
    """Write ``package`` to ``dst`` with the entries named in ``parts`` replaced (names
    compared without case) and every other entry copied as it was: its order, name, date,
    compression, attributes, comment and bytes. A part that is not in the package is refused
    before anything is written; the copy goes to a temporary file renamed over ``dst``.
    ``added`` parts (new names only) go after every existing entry, deflated."""
    wanted = {name.casefold(): data for name, data in parts.items()}
    present = {info.filename.casefold() for info in package.infolist()}
    missing = [name for name in parts if name.casefold() not in present]
    if missing:
        raise DDQError(ErrorCode.UNREADABLE_FILE,
                       f"{package.filename}: the part {missing[0]} is not in the package")
    clash = [name for name in added or {} if name.casefold() in present]
    if clash:
        raise DDQError(ErrorCode.INVALID_INPUT,
                       f"{package.filename}: the part {clash[0]} is in the package already")

    def fill(handle: IO[bytes]) -> None:
        with zipfile.ZipFile(handle, "w") as out:
            out.comment = package.comment
            for info in package.infolist():
                data = wanted.get(info.filename.casefold())
                out.writestr(_copy_info(info), package.read(info) if data is None else data)
            for name, data in (added or {}).items():
                out.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)

    _replace_with(dst, fill, ".part")
