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

from ddq.forms import FileFormat
from ddq.questionnaire.formats.base import ModuleFormat


class CsvFormat(ModuleFormat):
    format = FileFormat.CSV
    suffixes = (".csv", ".tsv")
    reader = "ddq.questionnaire.formats.csv.reading:extract_csv"
    writer = "ddq.questionnaire.formats.csv.writing:write_csv"
