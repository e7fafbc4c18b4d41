"""Extracting a Word questionnaire: open it safely, walk its body (twice when its answer
places show a style for answers), key the questions."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from ddq.errors import DDQError, ErrorCode
from ddq.forms import (
    DEFAULT_LIMITS,
    Extraction,
    ExtractOptions,
    FileFormat,
    PackageLimits,
)
from ddq.questionnaire.detect.keys import assign_keys
from ddq.questionnaire.formats.docx.body_xml import Element, val, w, xpath
from ddq.questionnaire.formats.docx.places import _Scan, _style_id
from ddq.questionnaire.formats.docx.walk import _Walker
from ddq.questionnaire.ooxml import check_package

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument


def _open(path: Path) -> DocxDocument:
    import docx

    try:
        return docx.Document(str(path))
    except Exception as exc:  # python-docx raises many types for a damaged package
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise DDQError(ErrorCode.UNREADABLE_FILE,
                       f"{path}: not a readable DOCX file ({reason})") from exc


_paragraph_styles = xpath("w:style[@w:type='paragraph']")
_ANSWER_STYLE_NAME = re.compile(r"\b(?:answers?|responses?)\b", re.IGNORECASE)


def _answer_styles(document: DocxDocument) -> tuple[frozenset[str], set[str]]:
    """Styles named for answers ("DDQ Response"), and the default style (never one)."""
    try:
        styles = list(_paragraph_styles(document.styles.element))
    except (KeyError, AttributeError):
        return frozenset(), set()
    named = frozenset(s.get(w("styleId")) or "" for s in styles
                      if _ANSWER_STYLE_NAME.search(val(s.find(w("name"))) or ""))
    default = {s.get(w("styleId")) or "" for s in styles if s.get(w("default")) in ("1", "true")}
    return named - default, default


def _scan(document: DocxDocument, options: ExtractOptions) -> _Scan:
    """Walk the body; walk again when its empty answer places show a style for answers."""
    named, default = _answer_styles(document)
    first = _Walker(document, options, named).run()
    learned = {_style_id(p) for _, p in first.slots} - {None} - default
    if not learned - named:
        return first
    return _Walker(document, options, named | frozenset(s for s in learned if s)).run()


def _style_name(document: DocxDocument, index: int | None) -> str | None:
    if index is None:
        return None
    try:
        style = document.paragraphs[index].style
    except (KeyError, ValueError, AttributeError, IndexError):
        return None
    return style.name if style is not None else None


def extract_docx(path: Path, options: ExtractOptions = ExtractOptions(),
                 limits: PackageLimits = DEFAULT_LIMITS) -> Extraction:
    """Questions from a Word document; see the module docstring for the shapes found."""
    check_package(path, "DOCX", limits)
    document = _open(path)
    scan = _scan(document, options)
    if not scan.found:
        raise DDQError(ErrorCode.NO_QUESTIONS,
                       f"{path}: no questions found (looked for numbered question paragraphs "
                       "and question/answer tables)")
    questions, warnings = assign_keys(scan.found, id_name="question number")
    layout = {
        "paragraph_questions": sum(1 for f in scan.found if f.location.startswith("paragraph")),
        "after_targets": scan.after_targets,
        "answer_style": _style_name(document, _convention_index(scan)),
        "tables": scan.tables,
    }
    return Extraction(str(path), FileFormat.DOCX, questions, layout, scan.warnings + warnings)


def _convention_index(scan: _Scan) -> int | None:
    """The first answer paragraph of the most common answer style (its body index)."""
    if not scan.slots:
        return None

    common = Counter(_style_id(p) for _, p in scan.slots).most_common(1)[0][0]
    return next(i for i, p in scan.slots if _style_id(p) == common)


def _convention(scan: _Scan) -> Element | None:
    index = _convention_index(scan)
    return None if index is None else dict(scan.slots)[index]
