"""Word questionnaires. Refs: ``table:<t>:<row>:<col>`` (a table cell),
``table:<t>:<row>:<first>-<last>`` (a row's choice cells, to mark), ``table:<t>:<row>:<col>:below``
(below a cell's check boxes), ``paragraph:<p>`` (a body paragraph, by index among the body's
paragraphs) and ``after:<p>`` (a new paragraph to insert after body paragraph ``p``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ddq.forms import DEFAULT_LIMITS, Extraction, ExtractOptions, FileFormat, PackageLimits
from ddq.questionnaire.formats.base import QuestionnaireFormat


class DocxFormat(QuestionnaireFormat):
    format = FileFormat.DOCX
    suffixes = (".docx",)

    def extract(self, path: Path, options: ExtractOptions = ExtractOptions(),
                limits: PackageLimits = DEFAULT_LIMITS) -> Extraction:
        from ddq.questionnaire.docx import extract_docx

        return extract_docx(path, options, limits)

    def write(self, source: Path, destination: Path, fills: Mapping[str, str]) -> int:
        from ddq.questionnaire.docx import write_docx

        return write_docx(source, destination, fills)
