"""CSV questionnaires: one question per row, the answer in a column (added when missing).

Reading finds the encoding (UTF-8, with or without a BOM, else Windows-1252), the delimiter
(comma, semicolon or tab) and the header row, whose names say which column holds the
question, its id, its section, the answer and the notes; the options override any of them.

Writing keeps every record that gets no value exactly as it was in the file, character for
character, and only re-quotes the records that get one, so an answered copy differs from the
original only where answers went. A missing answer column is appended at the right end.

The header rules are the shared ones (:mod:`ddq.questionnaire.detect.headers`).

Refs: ``row:<r>:<column name>`` with ``r`` the 0-based data row (after the header), or
``row:<r>:Yes|No|N/A`` for a row's choice columns, to mark.

Modules: ``text`` (encoding, delimiter, records), ``columns`` (the header and where answers
go), ``reading`` (extraction), ``writing`` (the answered copy).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ddq.forms import DEFAULT_LIMITS, Extraction, ExtractOptions, FileFormat, PackageLimits
from ddq.questionnaire.formats.base import QuestionnaireFormat


class CsvFormat(QuestionnaireFormat):
    format = FileFormat.CSV
    suffixes = (".csv", ".tsv")

    def extract(self, path: Path, options: ExtractOptions = ExtractOptions(),
                limits: PackageLimits = DEFAULT_LIMITS) -> Extraction:
        from ddq.questionnaire.formats.csv.reading import extract_csv

        return extract_csv(path, options, limits)

    def write(self, source: Path, destination: Path, fills: Mapping[str, str]) -> int:
        from ddq.questionnaire.formats.csv.writing import write_csv

        return write_csv(source, destination, fills)
