"""A CSV file as text: its encoding (UTF-8, with or without a BOM, else Windows-1252), its
delimiter (comma, semicolon or tab) and its records, each with its own text as it is in the
file so that a record without an answer is written back untouched."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ddq.errors import DDQError, ErrorCode
from ddq.forms import DEFAULT_LIMITS, PackageLimits
from ddq.safe_open import check_text_file

_BOM = b"\xef\xbb\xbf"
_DELIMITERS = (",", ";", "\t")
_SNIFF_LINES = 50
# Characters outside Windows-1252 that answers commonly hold, for a cp1252 file.
_CP1252_SUBSTITUTES = str.maketrans({"≥": ">=", "≤": "<=", "→": "->", "←": "<-",
                                     "✓": "v", "✔": "v", "✗": "x", "\u2011": "-",
                                     "\u2212": "-", "\u2009": " ", "\u202f": " "})


@dataclass(frozen=True, slots=True)
class _Record:
    fields: list[str]
    #: The record as it is in the file, its line terminator included.
    raw: str
    line: int  # 1-based line it starts on

    @property
    def blank(self) -> bool:
        return not any(f.strip() for f in self.fields)

    @property
    def body_and_end(self) -> tuple[str, str]:
        body = self.raw.rstrip("\r\n")
        return body, self.raw[len(body):]


@dataclass(slots=True)
class _CsvFile:
    encoding: str  # "utf-8" or "cp1252"
    bom: bool
    delimiter: str
    records: list[_Record] = field(default_factory=list)

    @property
    def line_terminator(self) -> str:
        for record in self.records:
            end = record.body_and_end[1]
            if end:
                return end
        return "\r\n"


def _decode(path: Path, data: bytes) -> tuple[str, str, bool]:
    if b"\x00" in data[:8192]:
        raise DDQError(ErrorCode.UNREADABLE_FILE, f"{path}: binary content, not CSV text")
    bom = data.startswith(_BOM)
    for encoding in ("utf-8", "cp1252"):
        try:
            text = data[len(_BOM) if bom else 0:].decode(encoding)
        except UnicodeDecodeError:
            continue
        sample = text[:8192]
        controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n\f")
        if controls > max(2, len(sample) // 100):
            raise DDQError(ErrorCode.UNREADABLE_FILE, f"{path}: binary content, not CSV text")
        return text, encoding, bom
    raise DDQError(ErrorCode.UNREADABLE_FILE,
                   f"{path}: not valid UTF-8 or Windows-1252 text")


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits most records into the same number (2+) of columns."""
    sample = "".join(io.StringIO(text, newline="").readlines()[:_SNIFF_LINES])
    best, best_score = ",", (0, 0)
    for delimiter in _DELIMITERS:
        try:
            rows = [r for r in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
                    if any(c.strip() for c in r)]
        except csv.Error:
            continue
        widths = Counter(len(r) for r in rows if len(r) >= 2)
        if not widths:
            continue
        width, count = widths.most_common(1)[0]
        score = (count, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _records(text: str, delimiter: str) -> Iterator[_Record]:
    """Parse, keeping each record's own text so it can be written back untouched."""
    consumed: list[str] = []

    def lines() -> Iterator[str]:
        for line in io.StringIO(text, newline=""):
            consumed.append(line)
            yield line

    line_no = 1
    for fields in csv.reader(lines(), delimiter=delimiter, quotechar='"', doublequote=True):
        raw = "".join(consumed)
        count = len(consumed)
        consumed.clear()
        yield _Record(fields, raw, line_no)
        line_no += count


def _read(path: Path, limits: PackageLimits = DEFAULT_LIMITS) -> _CsvFile:
    check_text_file(path, limits)  # size, then lines in blocks, before it is read
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DDQError(ErrorCode.UNREADABLE_FILE, f"{path}: {exc.strerror}") from exc
    text, encoding, bom = _decode(path, data)
    if not text.strip():
        raise DDQError(ErrorCode.EMPTY_FILE, f"{path}: the file has no rows")
    delimiter = _sniff_delimiter(text)
    parsed = _CsvFile(encoding, bom, delimiter)
    try:
        parsed.records = list(_records(text, delimiter))
    except csv.Error as exc:
        raise DDQError(ErrorCode.UNREADABLE_FILE, f"{path}: not a readable CSV file ({exc})") \
            from exc
    return parsed


def _encode(parsed: _CsvFile, text: str) -> bytes:
    if parsed.encoding == "utf-8":
        return (_BOM if parsed.bom else b"") + text.encode("utf-8")
    return text.translate(_CP1252_SUBSTITUTES).encode("cp1252", errors="replace")
