"""Writing answers into a copy of a workbook: the worksheets with answer cells edited,
every other part of the package copied as it was (``ooxml.copy_with_parts``)."""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from pathlib import Path

from defusedxml import DefusedXmlException
from lxml import etree

from ddq.errors import DDQError, ErrorCode
from ddq.questionnaire.formats.xlsx.editing import _Mark, _plan, _SheetEditor, _Write
from ddq.questionnaire.formats.xlsx.package import _shared_strings, _sheet_parts
from ddq.questionnaire.formats.xlsx.values import _why
from ddq.questionnaire.ooxml import check_package, copy_with_parts, refuse_overwrite


def _refuse_same_file(src: Path, dst: Path) -> None:
    refuse_overwrite(src, dst)
    if dst.is_dir():
        raise DDQError(ErrorCode.INVALID_INPUT, f"{dst}: is a folder; give a file name")
    if not dst.parent.is_dir():
        raise DDQError(ErrorCode.NOT_FOUND, f"{dst.parent}: no such folder")


def _place(item: _Write | _Mark) -> tuple[int, int]:
    return (item.row, item.column if isinstance(item, _Write) else item.first)


def write_xlsx(src: Path, dst: Path, values: Mapping[str, str]) -> int:
    """Write a copy of ``src`` to ``dst`` with the given cells ("Sheet!D5" → text) set.

    Text goes in as an inline string with the cell's style kept; formula-like text gets a
    leading apostrophe; "" clears a cell but keeps it and its style. Every other zip entry is
    copied with identical content. Returns the number of cells written.
    """
    check_package(src, "XLSX")
    _refuse_same_file(src, dst)
    try:
        with zipfile.ZipFile(src) as package:
            sheets = _sheet_parts(package)
            plan = _plan(values, sheets)
            names = {s.part: s.name for s in sheets}
            parts: dict[str, bytes] = {}
            strings: list[list[str]] = []

            def shared() -> list[str]:
                if not strings:
                    strings.append(_shared_strings(package))
                return strings[0]

            for part, writes in plan.items():
                editor = _SheetEditor(package.read(part), names[part], shared)
                for item in sorted(writes, key=_place):
                    if isinstance(item, _Mark):
                        editor.mark(item)
                    else:
                        editor.write(item)
                parts[part] = editor.to_bytes()
            try:
                copy_with_parts(package, dst, parts)
            except OSError as exc:
                raise DDQError(
                    ErrorCode.INVALID_INPUT,
                    f"{dst}: cannot write the export ({exc.strerror or exc})",
                ) from exc
    except DDQError:
        raise
    except DefusedXmlException as exc:
        raise DDQError(
            ErrorCode.UNSAFE_FILE, f"{src}: unsafe XML in the workbook ({_why(exc)})"
        ) from exc
    except (
        KeyError,
        ValueError,
        SyntaxError,
        OSError,
        zipfile.BadZipFile,
        etree.XMLSyntaxError,
        NotImplementedError,
    ) as exc:
        raise DDQError(
            ErrorCode.UNREADABLE_FILE, f"{src}: corrupt XLSX package ({_why(exc)})"
        ) from exc
    return len(values)
