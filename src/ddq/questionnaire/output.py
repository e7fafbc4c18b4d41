"""Writing an answered copy safely: never over the original, never half-written."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ddq.errors import DDQError, ErrorCode


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


def replace_atomically(dst: Path, data: bytes) -> None:
    """Write next to ``dst`` and rename, so a failed export leaves no half-written file."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    mode = output_mode(dst)
    fd, tmp = temporary_beside(dst)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
