"""Office packages in and out, safely: the checks before any parser sees a file, the copy
that replaces some parts and keeps every other byte, and the write that never leaves half a
file or overwrites the original.

An Office file is a zip package. Before it is parsed it goes through the safe-open layer
(:mod:`ddq.safe_open`, whose ``check_package`` and ``check_file_size`` are re-exported here):
its size, that it really is a zip, its expanded size, entries and ratio from the central
directory (a zip bomb is refused without inflating anything), then the work its XML holds
(cells, rows, shared strings, paragraphs, depth, characters, no DTD) counted while streaming,
within a parse-time budget. XML is then parsed with defusedxml (openpyxl uses it when
installed). The size check and the writes serve CSV files too.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO

from ddq.errors import DDQError, ErrorCode
from ddq.safe_open import check_file_size, check_package

__all__ = ["check_file_size", "check_package", "copy_with_parts", "output_mode",
           "refuse_overwrite", "replace_atomically", "temporary_beside"]


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
