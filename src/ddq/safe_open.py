"""Every file DDQ reads passes here before a parser sees it: one safe-open layer for
questionnaires and knowledge files, on the command line and over HTTP.

Two kinds of limit (:class:`ddq.forms.PackageLimits`, set from ``DDQ_MAX_*``):

- **Package limits**, from the file and the zip's central directory alone, without inflating
  anything: the file's size; that an Office file really is a zip (an encrypted workbook is an
  OLE compound file, a legacy ``.xls`` too); the sum of its entries' uncompressed sizes, their
  number and their compression ratio (a zip bomb).
- **Work limits**, counted while streaming: every entry of a package is inflated once, in
  blocks, so a corrupt member (a zlib "invalid distance too far back", a bad CRC) is found
  here, and every XML part is fed to expat with counters: worksheet cells and rows, shared
  strings, paragraphs, elements, nesting depth and characters. A DTD is refused outright
  (Office never writes one; an entity declaration is how a billion-laughs file expands), and
  the whole check runs under the file's parse-time budget. Text files are bounded in bytes
  before they are read and in characters and lines once decoded; PDFs in pages, characters,
  time and (through pypdf's own configuration) the output of every decompression.

Why counters and not a subprocess (measured, see docs/security.md): the streaming check of a
real 1,000-question workbook costs milliseconds, stops a many-cells bomb after reading only
up to the limit, and keeps the reader's memory bounded by what the limits allow through; a
subprocess per file costs a fresh interpreter with the parsers imported (the service runs
threads, so forking it is not safe) on every upload and would still need the limits to give
a message better than "killed".

Every refusal is a :class:`DDQError` with one line naming the file.
"""

from __future__ import annotations

import re
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from xml.parsers import expat

from ddq.errors import DDQError, ErrorCode
from ddq.forms import DEFAULT_LIMITS, PackageLimits

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BLOCK = 1 << 20
#: Parts of a package that are XML and parsed by the readers (VML is not well-formed XML and
#: is never read for text).
_XML_SUFFIXES = (".xml", ".rels")


def _article(kind: str) -> str:
    return "an" if kind[:1] in "AEFHILMNORSX" else "a"  # as the letters are spoken


def _mb(size: float) -> str:
    return f"{size / 1048576:.1f} MB" if size < 10 * 1048576 else f"{size / 1048576:.0f} MB"


class Budget:
    """The parse-time budget of one file: :meth:`check` refuses it once the time is spent."""

    def __init__(self, path: Path, limits: PackageLimits) -> None:
        self.path = path
        self.seconds = limits.parse_seconds
        self.deadline = time.monotonic() + limits.parse_seconds

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise DDQError(
                ErrorCode.FILE_TOO_LARGE,
                f"{self.path}: reading it took longer than the {self.seconds:g} s "
                "limit (DDQ_PARSE_SECONDS); refusing it",
            )


def over(path: Path, count: int, what: str, limit: int, setting: str) -> DDQError:
    """The one-line refusal of a file past a work limit."""
    del count  # counting stops at the first one past the limit
    return DDQError(
        ErrorCode.FILE_TOO_LARGE,
        f"{path}: more than the {limit:,} {what} a file may hold (DDQ_{setting});"
        " refusing to read it",
    )


# --- the file itself -----------------------------------------------------------------------


def check_file_size(path: Path, limits: PackageLimits = DEFAULT_LIMITS) -> int:
    """The size of ``path``; a missing, empty or too large file is refused."""
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
            f" limit for {limits.purpose}",
        )
    return size


def read_bounded(path: Path, limits: PackageLimits = DEFAULT_LIMITS) -> bytes:
    """The bytes of ``path``, refused by size before anything is read."""
    check_file_size(path, limits)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DDQError(ErrorCode.UNREADABLE_FILE, f"{path}: {exc.strerror}") from exc


def check_text(path: Path, text: str, limits: PackageLimits = DEFAULT_LIMITS) -> None:
    """Decoded text within the character and line limits (a line of a CSV file is a row)."""
    if len(text) > limits.max_text_chars:
        raise over(path, len(text), "characters", limits.max_text_chars, "MAX_TEXT_CHARS")
    lines = text.count("\n")
    if lines > limits.max_rows:
        raise over(path, lines, "lines", limits.max_rows, "MAX_ROWS")


def check_text_file(path: Path, limits: PackageLimits = DEFAULT_LIMITS) -> int:
    """A text file (CSV) within the size limit and, read in blocks, the line limit; its
    size. Characters are bounded by the size (a character is at least a byte)."""
    size = check_file_size(path, limits)
    lines = 0
    try:
        with path.open("rb") as handle:
            while block := handle.read(_BLOCK):
                lines += block.count(b"\n")
                if lines > limits.max_rows:
                    raise over(path, lines, "lines", limits.max_rows, "MAX_ROWS")
    except OSError as exc:
        raise DDQError(ErrorCode.UNREADABLE_FILE, f"{path}: {exc.strerror}") from exc
    return size


# --- Office packages -------------------------------------------------------------------------


#: Files that passed, by (path, size, mtime, limits): ingestion checks a workbook before it
#: asks the format layer, which checks it again; the second check is free.
_PASSED: dict[tuple[str, int, int, PackageLimits], None] = {}


def check_package(path: Path, kind: str, limits: PackageLimits = DEFAULT_LIMITS) -> None:
    """Refuse a file that is not a safe zip package or holds more than the work limits;
    ``kind`` ("XLSX", "DOCX") is for messages."""
    budget = Budget(path, limits)
    check_file_size(path, limits)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, limits)
    if key in _PASSED:
        return
    _check_package(path, kind, limits, budget)
    if len(_PASSED) > 256:
        _PASSED.clear()
    _PASSED[key] = None


def _check_package(path: Path, kind: str, limits: PackageLimits, budget: Budget) -> None:
    with path.open("rb") as handle:
        head = handle.read(8)
    if head == _OLE_MAGIC:
        raise DDQError(
            ErrorCode.ENCRYPTED_FILE,
            f"{path}: the file is password-protected (or a legacy binary Office file); "
            f"remove the password or save it as {kind} and try again",
        )
    if not zipfile.is_zipfile(path):
        raise DDQError(
            ErrorCode.UNREADABLE_FILE,
            f"{path}: not {_article(kind)} {kind} file (not a zip package)",
        )
    try:
        with zipfile.ZipFile(path) as package:
            infos = package.infolist()
            _check_directory(path, kind, infos, limits)
            _Scan(path, kind, limits, budget).run(package, infos)
    except DDQError:
        raise
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        ValueError,
        NotImplementedError,
        RuntimeError,
    ) as exc:
        raise DDQError(
            ErrorCode.UNREADABLE_FILE, f"{path}: corrupt {kind} file ({_one_line(exc)})"
        ) from exc


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _check_directory(
    path: Path, kind: str, infos: list[zipfile.ZipInfo], limits: PackageLimits
) -> None:
    if len(infos) > limits.max_entries:
        raise DDQError(
            ErrorCode.UNSAFE_FILE,
            f"{path}: {len(infos)} entries in the package is over the limit of "
            f"{limits.max_entries}; refusing to open it",
        )
    total = sum(i.file_size for i in infos)
    compressed = sum(i.compress_size for i in infos) or 1
    if total > limits.max_uncompressed_bytes or (
        total > 10 * 1024 * 1024 and total / compressed > limits.max_ratio
    ):
        raise DDQError(
            ErrorCode.UNSAFE_FILE,
            f"{path}: the package would expand to {_mb(total)} "
            f"(ratio {total / compressed:.0f}:1); refusing to open a possible zip bomb",
        )
    if any(i.flag_bits & 0x1 for i in infos):
        raise DDQError(
            ErrorCode.ENCRYPTED_FILE,
            f"{path}: the package's entries are encrypted; refusing to open it",
        )
    if "[Content_Types].xml" not in {i.filename for i in infos}:
        raise DDQError(
            ErrorCode.UNREADABLE_FILE,
            f"{path}: not {_article(kind)} {kind} file (a zip, but not an Office package)",
        )


@dataclass(slots=True)
class _Counts:
    cells: int = 0
    rows: int = 0
    strings: int = 0
    paragraphs: int = 0
    elements: int = 0
    chars: int = 0


def _tag(local: bytes) -> re.Pattern[bytes]:
    """A start tag with this local name, with or without a namespace prefix."""
    return re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?" + local + rb"[\s/>]")


_CELL, _ROW, _STRING, _PARAGRAPH = _tag(b"c"), _tag(b"row"), _tag(b"si"), _tag(b"p")


def _feeder(parser: expat.XMLParserType) -> Callable[[bytes], None]:
    def feed(block: bytes) -> None:
        parser.Parse(block, False)

    return feed


class _Scan:
    """Two passes over a package, each streaming. The first inflates every entry once (a
    corrupt member, a bad CRC) and counts the tags that cost a reader most (cells, rows,
    shared strings, paragraphs, elements) with regular expressions, in C: a many-cells bomb
    is refused after reading up to the limit, without a Python call per cell. The second
    feeds each XML part to expat, once the counts are known to be within the limits: no DTD,
    well-formed, depth, characters, and the exact element count."""

    def __init__(self, path: Path, kind: str, limits: PackageLimits, budget: Budget) -> None:
        self.path = path
        self.kind = kind
        self.limits = limits
        self.budget = budget
        self.counts = _Counts()

    def run(self, package: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
        parts = [i for i in infos if not i.is_dir()]
        for info in parts:
            self._read(package, info, self._count(info.filename))
        for info in parts:
            if info.filename.lower().endswith(_XML_SUFFIXES):
                parser = self._parser(info.filename)
                self._read(package, info, _feeder(parser))
                self._parse_end(info.filename, parser)

    def _read(
        self, package: zipfile.ZipFile, info: zipfile.ZipInfo, use: Callable[[bytes], object] | None
    ) -> None:
        name = info.filename
        try:
            with package.open(info) as stream:
                while block := stream.read(_BLOCK):
                    if use is not None:
                        use(block)
                    self.budget.check()
        except expat.ExpatError as exc:
            raise self._malformed(name, exc) from exc
        except (zlib.error, zipfile.BadZipFile, EOFError) as exc:
            raise DDQError(
                ErrorCode.UNREADABLE_FILE,
                f"{self.path}: corrupt {self.kind} file (the part {name}: {_one_line(exc)})",
            ) from exc

    def _parse_end(self, name: str, parser: expat.XMLParserType) -> None:
        try:
            parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise self._malformed(name, exc) from exc

    def _malformed(self, name: str, exc: expat.ExpatError) -> DDQError:
        return DDQError(
            ErrorCode.UNREADABLE_FILE,
            f"{self.path}: corrupt {self.kind} file (the part {name} is not "
            f"well-formed XML: {exc})",
        )

    def _count(self, part: str) -> Callable[[bytes], None] | None:
        lowered = part.lower()
        if not lowered.endswith(_XML_SUFFIXES):
            return None  # inflated for its CRC, never parsed
        counts, limits, path = self.counts, self.limits, self.path
        tallies: list[tuple[re.Pattern[bytes], str, str, str]] = []
        if lowered.startswith("xl/worksheets/"):
            tallies = [(_CELL, "cells", "cells", "MAX_CELLS"), (_ROW, "rows", "rows", "MAX_ROWS")]
        elif lowered == "xl/sharedstrings.xml":
            tallies = [(_STRING, "strings", "shared strings", "MAX_SHARED_STRINGS")]
        elif lowered.startswith("word/"):
            tallies = [(_PARAGRAPH, "paragraphs", "paragraphs", "MAX_PARAGRAPHS")]

        def count(block: bytes) -> None:
            counts.elements += (
                block.count(b"<") - block.count(b"</") - block.count(b"<?") - block.count(b"<!")
            )
            if counts.elements > limits.max_xml_elements:
                raise over(
                    path,
                    counts.elements,
                    "XML elements",
                    limits.max_xml_elements,
                    "MAX_XML_ELEMENTS",
                )
            for pattern, field, what, setting in tallies:
                value = getattr(counts, field) + len(pattern.findall(block))
                setattr(counts, field, value)
                limit = getattr(
                    limits, f"max_{field}" if field != "strings" else "max_shared_strings"
                )
                if value > limit:
                    raise over(path, value, what, limit, setting)

        return count

    def _parser(self, part: str) -> expat.XMLParserType:
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        counts, limits, path = self.counts, self.limits, self.path
        depth = 0

        def refuse_dtd(*_: object) -> None:
            raise DDQError(
                ErrorCode.UNSAFE_FILE,
                f"{path}: the part {part} declares a DTD or entities (Office files "
                "never do; entity expansion is how an XML bomb grows); refusing it",
            )

        def start(_name: str, _attrs: object) -> None:
            nonlocal depth
            depth += 1
            if depth > limits.max_xml_depth:
                raise DDQError(
                    ErrorCode.UNSAFE_FILE,
                    f"{path}: XML in {part} nests deeper than {limits.max_xml_depth} "
                    "levels (DDQ_MAX_XML_DEPTH); refusing to read it",
                )

        def end(_name: str) -> None:
            nonlocal depth
            depth -= 1

        def text(data: str) -> None:
            counts.chars += len(data)
            if counts.chars > limits.max_text_chars:
                raise over(
                    path, counts.chars, "characters", limits.max_text_chars, "MAX_TEXT_CHARS"
                )

        parser.StartDoctypeDeclHandler = refuse_dtd
        parser.EntityDeclHandler = refuse_dtd
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = text
        return parser


# --- PDF -------------------------------------------------------------------------------------


@contextmanager
def pdf_limits(limits: PackageLimits = DEFAULT_LIMITS) -> Iterator[None]:
    """pypdf's own limits for what one stream may inflate to, no higher than the package
    limit (pypdf's default is 75 MB per stream)."""
    import pypdf

    ceiling = min(75_000_000, limits.max_uncompressed_bytes, 4 * limits.max_text_chars)
    with pypdf.apply_configuration(
        zlib_maximum_output_length=ceiling,
        lzw_maximum_output_length=ceiling,
        run_length_maximum_output_length=ceiling,
        jbig2_maximum_output_length=ceiling,
        brotli_maximum_output_length=ceiling,
        array_based_stream_maximum_output_length=ceiling,
        maximum_declared_stream_length=ceiling,
        image_maximum_buffer_size=ceiling,
        page_tree_maximum_entries=limits.max_pages + 1000,
        page_tree_maximum_page_entries=4 * limits.max_pages + 1000,
        stream_decoding_work_maximum_length=4 * ceiling,
    ):
        yield
