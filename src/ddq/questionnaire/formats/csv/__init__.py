"""CSV (and tab-separated) questionnaires; refs are ``row:<r>:<column name>`` (``r`` the
0-based data row after the header), or ``row:<r>:Yes|No|N/A`` for a row's choice columns."""

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
        from ddq.questionnaire.csvfile import extract_csv

        return extract_csv(path, options, limits)

    def write(self, source: Path, destination: Path, fills: Mapping[str, str]) -> int:
        from ddq.questionnaire.csvfile import write_csv

        return write_csv(source, destination, fills)
