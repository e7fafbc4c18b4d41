"""The project's own hostile files, built by the tests (nothing hostile is committed as a
binary): zip bombs, bombs under the package limits, XML bombs, corrupt, truncated,
encrypted, fake and empty files of every kind DDQ reads.

Each :class:`Hostile` says what it is, how to build it into a folder, whether the
questionnaire paths read its kind (``.xlsx``, ``.docx``, ``.csv``) and what the refusal must
say (a regular expression over the one-line message). The 1 GB bombs are real: their members
do inflate to 1 GiB. They are written with a compressor that deflates one block once and
repeats it (each block ends in a full flush, so every copy is the same bytes), so building
one takes about a second instead of deflating a gigabyte.
"""

from __future__ import annotations

import io
import random
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

GIB = 1 << 30
_BLOCK = 1 << 20
_ZIP_TIME = (2025, 3, 14, 9, 0, 0)
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_SHEET_NS = f'xmlns="{MAIN_NS}"'
_W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'

_XLSX_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
)
_XLSX_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_XLSX_WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook {_SHEET_NS} '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Questions" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_XLSX_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)
_DOCX_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_DOCX_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)


# --- writing packages ------------------------------------------------------------------------


class _RepeatingDeflate:
    """A deflate compressor for zipfile that deflates each distinct block once: every block
    ends in a full flush (the window is reset), so the same block always gives the same
    bytes and a gigabyte of one block is the same few kilobytes repeated."""

    def __init__(self) -> None:
        self._z = zlib.compressobj(9, zlib.DEFLATED, -15)
        self._seen: dict[bytes, bytes] = {}

    def compress(self, data: bytes) -> bytes:
        key = data if len(data) < 4096 else data[:64] + len(data).to_bytes(8, "big")
        if key not in self._seen:
            self._seen[key] = self._z.compress(data) + self._z.flush(zlib.Z_FULL_FLUSH)
        return self._seen[key]

    def flush(self) -> bytes:
        return self._z.flush()


class _Raw:
    """A "compressor" that writes given bytes as the member's deflate stream."""

    def __init__(self, raw: bytes) -> None:
        self._raw = raw
        self._sent = False

    def compress(self, _data: bytes) -> bytes:
        if self._sent:
            return b""
        self._sent = True
        return self._raw

    def flush(self) -> bytes:
        return b""


Member = tuple[str, bytes] | tuple[str, Callable[[Callable[[bytes], None]], None]]


def write_package(
    path: Path, members: list[Member], *, raw: dict[str, bytes] | None = None
) -> Path:
    """A zip package of ``members``: (name, bytes) or (name, writer) where the writer is
    called with a ``write`` function and streams the member (a bomb's gigabyte). ``raw``
    gives a member's deflate stream as is (a corrupt member)."""
    raw = raw or {}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for name, content in members:
            info = zipfile.ZipInfo(name, _ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            with package.open(info, "w", force_zip64=callable(content)) as out:
                out._compressor = (
                    _Raw(raw[name])
                    if name in raw  # type: ignore[attr-defined]
                    else _RepeatingDeflate()
                )
                if callable(content):
                    content(out.write)
                else:
                    out.write(content)
    return path


def _gigabyte(head: str, filler: bytes, tail: str) -> Callable[[Callable[[bytes], None]], None]:
    def write(put: Callable[[bytes], None]) -> None:
        put(head.encode())
        block = (filler * (_BLOCK // len(filler) + 1))[:_BLOCK]
        for _ in range(GIB // _BLOCK):
            put(block)
        put(tail.encode())

    return write


def _xlsx(
    path: Path,
    sheet: bytes | Callable[[Callable[[bytes], None]], None],
    *,
    strings: bytes | None = None,
    raw: dict[str, bytes] | None = None,
) -> Path:
    shared = (
        strings
        if strings is not None
        else (
            f'<?xml version="1.0" encoding="UTF-8"?><sst {_SHEET_NS} count="0" uniqueCount="0"/>'
        ).encode()
    )
    return write_package(
        path,
        [
            ("[Content_Types].xml", _XLSX_TYPES.encode()),
            ("_rels/.rels", _XLSX_ROOT_RELS.encode()),
            ("xl/workbook.xml", _XLSX_WORKBOOK.encode()),
            ("xl/_rels/workbook.xml.rels", _XLSX_WORKBOOK_RELS.encode()),
            ("xl/sharedStrings.xml", shared),
            ("xl/worksheets/sheet1.xml", sheet),
        ],
        raw=raw,
    )


def _sheet(rows: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet {_SHEET_NS}><sheetData>{rows}'
        "</sheetData></worksheet>"
    ).encode()


def _docx(
    path: Path,
    document: bytes | Callable[[Callable[[bytes], None]], None],
    *,
    raw: dict[str, bytes] | None = None,
) -> Path:
    return write_package(
        path,
        [
            ("[Content_Types].xml", _DOCX_TYPES.encode()),
            ("_rels/.rels", _DOCX_ROOT_RELS.encode()),
            ("word/document.xml", document),
        ],
        raw=raw,
    )


def _body(xml: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><w:document {_W_NS}><w:body>{xml}'
        "</w:body></w:document>"
    ).encode()


def invalid_distance_deflate() -> bytes:
    """A deflate stream whose first symbol copies from before the start: zlib's "invalid
    distance too far back" (a fixed-Huffman block: length 3, distance 1, at offset 0)."""
    bits = [1, 1, 0] + [0, 0, 0, 0, 0, 0, 1] + [0] * 5 + [0] * 7
    out, acc, n = bytearray(), 0, 0
    for bit in bits:
        acc |= bit << n
        n += 1
        if n == 8:
            out.append(acc)
            acc, n = 0, 0
    if n:
        out.append(acc)
    return bytes(out)


# --- legitimate files to spoil ------------------------------------------------------------


def good_xlsx(path: Path) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Questions"
    sheet.append(["ID", "Question", "Answer"])
    for n in range(1, 21):
        sheet.append([f"Q-{n}", f"Do you encrypt backups of system {n} at rest?", None])
    book.save(path)
    return path


def good_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("Security policy", 1)
    for n in range(40):
        document.add_paragraph(f"Control {n}: backups are encrypted and tested every quarter.")
    document.save(str(path))
    return path


def good_pdf(path: Path, pages: int = 3, text: str = "Backups are encrypted at rest.") -> Path:
    path.write_bytes(
        pdf_bytes(
            [f"BT /F1 12 Tf 72 720 Td ({text} Page {n}) Tj ET".encode() for n in range(pages)]
        )
    )
    return path


def pdf_bytes(contents: list[bytes], *, raw_streams: list[bytes] | None = None) -> bytes:
    """A small PDF, one page per content stream; ``raw_streams`` are FlateDecode streams
    (already deflated) used as the pages' contents instead."""
    objects: list[bytes] = []
    streams = raw_streams if raw_streams is not None else contents
    n_pages = len(streams)
    first_page = 4
    kids = " ".join(f"{first_page + 2 * i} 0 R" for i in range(n_pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i, stream in enumerate(streams):
        content = first_page + 2 * i + 1
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources "
            f"<< /Font << /F1 3 0 R >> >> /Contents {content} 0 R >>".encode()
        )
        flate = b" /Filter /FlateDecode" if raw_streams is not None else b""
        objects.append(
            b"<< /Length "
            + str(len(stream)).encode()
            + flate
            + b" >>\nstream\n"
            + stream
            + b"\nendstream"
        )
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()


# --- the hostile files --------------------------------------------------------------------


def xlsx_zip_bomb(path: Path) -> Path:
    """A workbook whose one sheet inflates to 1 GiB (spaces between well-formed rows)."""
    head = (
        _sheet('<row r="1"><c r="A1"><v>1</v></c></row>')
        .decode()
        .replace("</sheetData></worksheet>", "")
    )
    return _xlsx(path, _gigabyte(head, b" ", "</sheetData></worksheet>"))


def docx_zip_bomb(path: Path) -> Path:
    head = (
        _body("<w:p><w:r><w:t>x</w:t></w:r></w:p>").decode().replace("</w:body></w:document>", "")
    )
    return _docx(path, _gigabyte(head, b" ", "</w:body></w:document>"))


def xlsx_many_cells(path: Path, cells: int = 1_500_000) -> Path:
    """Under every package limit (~40 MB expanded, ratio ~5:1), but three times the cell
    limit in small cells: the bomb that grew ``ddq questions`` to 6 GB."""
    columns = "ABCDEFGHIJ"

    def write(put: Callable[[bytes], None]) -> None:
        put(_sheet("").decode().replace("</sheetData></worksheet>", "").encode())
        rows = cells // len(columns)
        for start in range(1, rows + 1, 2000):
            put(
                "".join(
                    f'<row r="{r}">'
                    + "".join(
                        f'<c r="{c}{r}"><v>{(r * 31 + i * 17) % 997}</v></c>'
                        for i, c in enumerate(columns)
                    )
                    + "</row>"
                    for r in range(start, min(rows + 1, start + 2000))
                ).encode()
            )
        put(b"</sheetData></worksheet>")

    return _xlsx_streamed(path, write)


def _xlsx_streamed(path: Path, sheet: Callable[[Callable[[bytes], None]], None]) -> Path:
    # Real deflate (not the repeating one): the many-cells file must pass the ratio check.
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as package:
        for name, data in (
            ("[Content_Types].xml", _XLSX_TYPES),
            ("_rels/.rels", _XLSX_ROOT_RELS),
            ("xl/workbook.xml", _XLSX_WORKBOOK),
            ("xl/_rels/workbook.xml.rels", _XLSX_WORKBOOK_RELS),
            ("xl/sharedStrings.xml", f'<sst {_SHEET_NS} count="0" uniqueCount="0"/>'),
        ):
            package.writestr(
                zipfile.ZipInfo(name, _ZIP_TIME), data, compress_type=zipfile.ZIP_DEFLATED
            )
        info = zipfile.ZipInfo("xl/worksheets/sheet1.xml", _ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        with package.open(info, "w", force_zip64=True) as out:
            sheet(out.write)
    return path


def xlsx_many_rows(path: Path, rows: int = 1_500_000) -> Path:
    def write(put: Callable[[bytes], None]) -> None:
        put(_sheet("").decode().replace("</sheetData></worksheet>", "").encode())
        for start in range(1, rows + 1, 10_000):
            put(
                "".join(
                    f'<row r="{r}" ht="{12 + r % 7}" customHeight="1"/>'
                    for r in range(start, min(rows + 1, start + 10_000))
                ).encode()
            )
        put(b"</sheetData></worksheet>")

    return _xlsx_streamed(path, write)


def xlsx_shared_strings(path: Path, strings: int = 2_000_000) -> Path:
    rng = random.Random(11)
    body = "".join(f"<si><t>{rng.randrange(10**6)}</t></si>" for _ in range(strings))
    sst = (
        f'<?xml version="1.0" encoding="UTF-8"?><sst {_SHEET_NS} count="{strings}" '
        f'uniqueCount="{strings}">{body}</sst>'
    ).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as package:
        for name, data in (
            ("[Content_Types].xml", _XLSX_TYPES.encode()),
            ("_rels/.rels", _XLSX_ROOT_RELS.encode()),
            ("xl/workbook.xml", _XLSX_WORKBOOK.encode()),
            ("xl/_rels/workbook.xml.rels", _XLSX_WORKBOOK_RELS.encode()),
            ("xl/sharedStrings.xml", sst),
            ("xl/worksheets/sheet1.xml", _sheet('<row r="1"><c r="A1" t="s"><v>0</v></c></row>')),
        ):
            package.writestr(
                zipfile.ZipInfo(name, _ZIP_TIME), data, compress_type=zipfile.ZIP_DEFLATED
            )
    return path


LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>"
)


def xlsx_billion_laughs(path: Path) -> Path:
    strings = (
        f'<?xml version="1.0" encoding="UTF-8"?>{LAUGHS}<sst {_SHEET_NS} count="1" '
        'uniqueCount="1"><si><t>&lol9;</t></si></sst>'
    ).encode()
    return _xlsx(path, _sheet('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'), strings=strings)


def docx_billion_laughs(path: Path) -> Path:
    document = (
        f'<?xml version="1.0" encoding="UTF-8"?>{LAUGHS}<w:document {_W_NS}>'
        "<w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>"
    )
    return _docx(path, document.encode())


def xlsx_external_entity(path: Path) -> Path:
    strings = (
        f'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE sst [<!ENTITY x SYSTEM '
        f'"file:///etc/passwd">]><sst {_SHEET_NS}><si><t>&x;</t></si></sst>'
    ).encode()
    return _xlsx(path, _sheet('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'), strings=strings)


def xlsx_deep(path: Path, depth: int = 200_000) -> Path:
    return _xlsx(
        path,
        _sheet(
            '<row r="1"><c r="A1" t="inlineStr"><is>'
            + "<r>" * depth
            + "</r>" * depth
            + "</is></c></row>"
        ),
    )


def docx_deep(path: Path, depth: int = 200_000) -> Path:
    return _docx(
        path,
        _body(
            "<w:tbl><w:tr><w:tc>" * (depth // 3)
            + "<w:p/>"
            + "</w:tc></w:tr></w:tbl>" * (depth // 3)
        ),
    )


def docx_many_paragraphs(path: Path, paragraphs: int = 2_000_000) -> Path:
    rng = random.Random(3)
    words = ["backup", "policy", "access", "key", "audit", "vendor", "risk", "data"]

    def write(put: Callable[[bytes], None]) -> None:
        put(_body("").decode().replace("</w:body></w:document>", "").encode())
        for _ in range(paragraphs // 5000):
            put(
                "".join(
                    f"<w:p><w:r><w:t>{rng.choice(words)}</w:t></w:r></w:p>" for _ in range(5000)
                ).encode()
            )
        put(b"</w:body></w:document>")

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as package:
        for name, data in (("[Content_Types].xml", _DOCX_TYPES), ("_rels/.rels", _DOCX_ROOT_RELS)):
            package.writestr(
                zipfile.ZipInfo(name, _ZIP_TIME), data, compress_type=zipfile.ZIP_DEFLATED
            )
        info = zipfile.ZipInfo("word/document.xml", _ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        with package.open(info, "w", force_zip64=True) as out:
            write(out.write)
    return path


def docx_huge_text(path: Path, chars: int = 12_000_000) -> Path:
    """One paragraph of ~12 M characters of varied words (compresses ~4:1, so no ratio
    check catches it)."""
    rng = random.Random(5)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocabulary = ["".join(rng.choices(letters, k=rng.randrange(2, 9))) for _ in range(5000)]
    text = " ".join(rng.choices(vocabulary, k=chars // 6))
    data = _body(f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as package:
        for name, body in (
            ("[Content_Types].xml", _DOCX_TYPES.encode()),
            ("_rels/.rels", _DOCX_ROOT_RELS.encode()),
            ("word/document.xml", data),
        ):
            package.writestr(
                zipfile.ZipInfo(name, _ZIP_TIME), body, compress_type=zipfile.ZIP_DEFLATED
            )
    return path


def corrupt_member(path: Path) -> Path:
    """A workbook (or document) whose main part's deflate stream is invalid."""
    if path.suffix == ".xlsx":
        return _xlsx(
            path,
            _sheet('<row r="1"><c r="A1"><v>1</v></c></row>'),
            raw={"xl/worksheets/sheet1.xml": invalid_distance_deflate()},
        )
    return _docx(path, _body("<w:p/>"), raw={"word/document.xml": invalid_distance_deflate()})


def bad_crc(path: Path) -> Path:
    """A valid package with one byte of a member's stored data changed: a CRC mismatch."""
    (good_xlsx if path.suffix == ".xlsx" else good_docx)(path)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as package:
        info = package.getinfo(
            "xl/worksheets/sheet1.xml" if path.suffix == ".xlsx" else "word/document.xml"
        )
    # Stored, so the byte changes the content and not the stream's validity.
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as package:
        member = package.read(info.filename)
    rebuilt = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as source, zipfile.ZipFile(rebuilt, "w") as out:
        for item in source.infolist():
            body = source.read(item)
            out.writestr(
                zipfile.ZipInfo(item.filename, _ZIP_TIME), body, compress_type=zipfile.ZIP_STORED
            )
    raw = bytearray(rebuilt.getvalue())
    where = raw.find(member[:40])
    raw[where + 20] ^= 0x01
    path.write_bytes(bytes(raw))
    return path


def too_many_entries(path: Path, entries: int = 12_000) -> Path:
    (good_xlsx if path.suffix == ".xlsx" else good_docx)(path)
    with zipfile.ZipFile(path, "a") as package:
        for n in range(entries):
            package.writestr(f"customXml/item{n}.bin", b"")
    return path


def truncated(path: Path) -> Path:
    builders = {".xlsx": good_xlsx, ".docx": good_docx, ".pdf": good_pdf}
    builders[path.suffix](path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def encrypted_office(path: Path) -> Path:
    """What Excel and Word save with a password: an OLE compound file."""
    path.write_bytes(OLE_MAGIC + bytes(range(256)) * 16)
    return path


def fake(path: Path) -> Path:
    path.write_bytes(b"MZ\x90\x00 this is a Windows executable renamed " + bytes(range(256)))
    return path


def empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def zip_not_office(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("readme.txt", "just a zip")
    return path


def oversized(path: Path, megabytes: int = 60) -> Path:
    """Larger than the 50 MB file limit (random bytes: it is refused by size alone)."""
    rng = random.Random(13)
    with path.open("wb") as out:
        for _ in range(megabytes):
            out.write(rng.randbytes(_BLOCK))
    return path


def csv_many_rows(path: Path, rows: int = 400_000) -> Path:
    """Twice the row limit in a 3 MB file (under the size and character limits)."""
    with path.open("w") as out:
        out.write("Question,Answer\n")
        for start in range(0, rows, 100_000):
            out.write("".join(f"{n},\n" for n in range(start, start + 100_000)))
    return path


def markdown_huge(path: Path, megabytes: int = 60) -> Path:
    """The 60 MB Markdown that became 46,193 chunks at 2.5 GB."""
    paragraph = (
        "## Section\n\nBackups are encrypted at rest and tested every quarter by the "
        "operations team, and access to them is logged and reviewed.\n\n"
    )
    with path.open("w") as out:
        block = paragraph * (_BLOCK // len(paragraph))
        for _ in range(megabytes):
            out.write(block)
    return path


def text_many_chars(path: Path, chars: int = 20_000_000) -> Path:
    """Under the 50 MB file limit, over the character limit."""
    line = "Access reviews happen every quarter and are signed off by the owner.\n\n"
    path.write_text(line * (chars // len(line) + 1))
    return path


def binary_as_text(path: Path) -> Path:
    path.write_bytes(b"\x00\x01\x02binary" * 1000)
    return path


def pdf_bomb(path: Path) -> Path:
    """A page whose content stream inflates to 1 GiB (pypdf would otherwise inflate it)."""
    z = zlib.compressobj(9)
    block = b" " * _BLOCK
    first = z.compress(block) + z.flush(zlib.Z_FULL_FLUSH)
    again = z.compress(block) + z.flush(zlib.Z_FULL_FLUSH)
    stream = first + again * (GIB // _BLOCK - 1) + z.flush()
    path.write_bytes(pdf_bytes([], raw_streams=[stream]))
    return path


def pdf_many_pages(path: Path, pages: int = 20_000) -> Path:
    path.write_bytes(pdf_bytes([b"BT ET"] * pages))
    return path


def pdf_encrypted(path: Path) -> Path:
    from pypdf import PdfReader, PdfWriter

    good_pdf(path)
    writer = PdfWriter()
    for page in PdfReader(str(path)).pages:
        writer.add_page(page)
    writer.encrypt("secret", algorithm="RC4-128")
    with path.open("wb") as out:
        writer.write(out)
    return path


def pdf_fake(path: Path) -> Path:
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n")
    return path


def pdf_object_loop(path: Path) -> Path:
    """A page tree whose kid is its own parent."""
    data = pdf_bytes([b"BT ET"]).replace(b"/Kids [4 0 R]", b"/Kids [2 0 R]")
    path.write_bytes(data)
    return path


# --- the catalogue ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hostile:
    """One hostile file: its case name, its file name, how to build it, and what a refusal
    must say (a regular expression, case-insensitive)."""

    case: str
    filename: str
    build: Callable[[Path], Path]
    says: str
    #: One of the acceptance cases: refused in under 5 s, under 300 MB, on every path.
    headline: bool = False

    @property
    def questionnaire(self) -> bool:
        """Whether the questionnaire paths read this kind of file."""
        return Path(self.filename).suffix in (".xlsx", ".docx", ".csv")


_BOMB = r"zip bomb"
_CORRUPT = r"corrupt|not a readable|not well-formed"
_PASSWORD = r"password"
_NOT_OFFICE = r"not an? (XLSX|DOCX) file|not a readable"
_EMPTY = r"empty"
_SIZE = r"MB is over the|upload limit"

CATALOGUE: tuple[Hostile, ...] = (
    Hostile("xlsx-zip-bomb-1gb", "bomb.xlsx", xlsx_zip_bomb, _BOMB, headline=True),
    Hostile("docx-zip-bomb-1gb", "bomb.docx", docx_zip_bomb, _BOMB, headline=True),
    Hostile("xlsx-many-cells", "cells.xlsx", xlsx_many_cells, r"cells", headline=True),
    Hostile("xlsx-many-rows", "rows.xlsx", xlsx_many_rows, r"rows"),
    Hostile("xlsx-shared-strings", "strings.xlsx", xlsx_shared_strings, r"shared strings"),
    Hostile("xlsx-billion-laughs", "laughs.xlsx", xlsx_billion_laughs, r"DTD or entities"),
    Hostile("xlsx-external-entity", "xxe.xlsx", xlsx_external_entity, r"DTD or entities"),
    Hostile("xlsx-deep-xml", "deep.xlsx", xlsx_deep, r"nests deeper"),
    Hostile("xlsx-corrupt-member", "corrupt.xlsx", corrupt_member, r"invalid distance"),
    Hostile("xlsx-bad-crc", "crc.xlsx", bad_crc, r"CRC"),
    Hostile("xlsx-too-many-entries", "entries.xlsx", too_many_entries, r"entries"),
    Hostile("xlsx-truncated", "truncated.xlsx", truncated, _NOT_OFFICE + "|" + _CORRUPT),
    Hostile("xlsx-encrypted", "locked.xlsx", encrypted_office, _PASSWORD),
    Hostile("xlsx-fake", "fake.xlsx", fake, _NOT_OFFICE),
    Hostile("xlsx-empty", "empty.xlsx", empty, _EMPTY),
    Hostile("xlsx-zip-not-office", "plainzip.xlsx", zip_not_office, r"not an Office package"),
    Hostile("xlsx-oversized", "huge.xlsx", oversized, _SIZE),
    Hostile("docx-billion-laughs", "laughs.docx", docx_billion_laughs, r"DTD or entities"),
    Hostile("docx-many-paragraphs", "paragraphs.docx", docx_many_paragraphs, r"paragraphs"),
    Hostile("docx-huge-text", "text.docx", docx_huge_text, r"characters"),
    Hostile("docx-deep-xml", "deep.docx", docx_deep, r"nests deeper"),
    Hostile("docx-corrupt-member", "corrupt.docx", corrupt_member, r"invalid distance"),
    Hostile("docx-bad-crc", "crc.docx", bad_crc, r"CRC"),
    Hostile("docx-too-many-entries", "entries.docx", too_many_entries, r"entries"),
    Hostile("docx-truncated", "truncated.docx", truncated, _NOT_OFFICE + "|" + _CORRUPT),
    Hostile("docx-encrypted", "locked.docx", encrypted_office, _PASSWORD),
    Hostile("docx-fake", "fake.docx", fake, _NOT_OFFICE),
    Hostile("docx-empty", "empty.docx", empty, _EMPTY),
    Hostile("csv-many-rows", "rows.csv", csv_many_rows, r"lines"),
    Hostile("csv-binary", "binary.csv", binary_as_text, r"binary|not valid|NUL|not a readable"),
    Hostile("csv-empty", "empty.csv", empty, _EMPTY),
    Hostile("pdf-decompression-bomb", "bomb.pdf", pdf_bomb, r"safety limit|not a readable"),
    Hostile("pdf-many-pages", "pages.pdf", pdf_many_pages, r"pages"),
    Hostile("pdf-encrypted", "locked.pdf", pdf_encrypted, _PASSWORD),
    Hostile("pdf-truncated", "truncated.pdf", truncated, r"not a readable|no text"),
    Hostile("pdf-fake", "fake.pdf", pdf_fake, r"not a readable|no text"),
    Hostile("pdf-page-loop", "loop.pdf", pdf_object_loop, r"not a readable|safety limit|no text"),
    Hostile("pdf-empty", "empty.pdf", empty, _EMPTY),
    Hostile("markdown-60mb", "huge.md", markdown_huge, _SIZE),
    Hostile("text-many-chars", "chars.txt", text_many_chars, r"characters"),
    Hostile("markdown-binary", "binary.md", binary_as_text, r"binary"),
    Hostile("markdown-empty", "empty.md", empty, _EMPTY),
)


def build_all(folder: Path) -> dict[str, Path]:
    """Every hostile file of the catalogue, each in its own subfolder of ``folder`` (so that
    each case can be ingested alone under its own name); case name → path."""
    built: dict[str, Path] = {}
    for item in CATALOGUE:
        place = folder / item.case
        place.mkdir(parents=True, exist_ok=True)
        built[item.case] = item.build(place / item.filename)
    return built
