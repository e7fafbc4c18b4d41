"""Loaders for prose formats: Markdown, plain text, HTML, PDF and DOCX.

Each returns a :class:`LoadedDocument` of ordered blocks (headings, paragraphs, list items)
with their location, so the chunker can keep structure and citations can point back.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from ddq.domain import Block, LoadedDocument, Location
from ddq.errors import DDQError, ErrorCode
from ddq.forms import DEFAULT_LIMITS, PackageLimits
from ddq.safe_open import Budget, over, pdf_limits

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+")


def _clean(text: str) -> str:
    return re.sub(r"[ \t\u00a0]+", " ", text).strip()


def decode_text(path: Path, data: bytes) -> str:
    if b"\x00" in data[:4096]:
        raise DDQError(ErrorCode.UNREADABLE_FILE, f"{path}: binary content, not text")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DDQError(ErrorCode.UNREADABLE_FILE, f"{path}: not valid UTF-8 or Windows-1252 text")


def parse_markdown(text: str, *, title: str) -> LoadedDocument:
    blocks: list[Block] = []
    paragraph: list[str] = []
    in_fence = False

    def flush() -> None:
        if paragraph:
            joined = _clean(" ".join(paragraph))
            if joined:
                blocks.append(Block(text=joined, location=Location()))
            paragraph.clear()

    for raw in text.splitlines():
        line = raw.rstrip()
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
            continue
        if in_fence:
            paragraph.append(line)
            continue
        heading = _MD_HEADING.match(line)
        if heading:
            flush()
            level = len(heading.group(1))
            heading_text = _clean(heading.group(2).replace("**", ""))
            if heading_text:
                blocks.append(
                    Block(heading_text, Location(), is_heading=True, heading_level=level)
                )
            continue
        stripped = line.strip()
        if not stripped or re.fullmatch(r"[-*_=|: ]{3,}", stripped):
            flush()
            continue
        if stripped.startswith("|"):
            flush()
            cells = [_clean(c) for c in stripped.strip("|").split("|")]
            row = " | ".join(c for c in cells if c)
            if row:
                blocks.append(Block(row.replace("**", ""), Location(), is_list_item=True))
            continue
        if _LIST_ITEM.match(line):
            flush()
            blocks.append(
                Block(_clean(_LIST_ITEM.sub("", line, count=1)).replace("**", ""), Location(),
                      is_list_item=True)
            )
            continue
        if blocks and blocks[-1].is_list_item and not paragraph and raw.startswith((" ", "\t")):
            previous = blocks.pop()
            blocks.append(Block(previous.text + " " + _clean(line), Location(), is_list_item=True))
            continue
        paragraph.append(stripped.replace("**", ""))
    flush()
    first_heading = next((b.text for b in blocks if b.is_heading), None)
    return LoadedDocument(title=first_heading or title, blocks=blocks, format="markdown")


def parse_plain_text(text: str, *, title: str) -> LoadedDocument:
    blocks = [
        Block(_clean(" ".join(part.split())), Location())
        for part in re.split(r"\n\s*\n", text)
        if part.strip()
    ]
    return LoadedDocument(title=title, blocks=blocks, format="text")


class _HTMLBlocks(HTMLParser):
    _BLOCK_TAGS = frozenset(
        {"p", "div", "li", "tr", "br", "section", "article", "pre", "blockquote",
         "dt", "dd", "table", "ul", "ol", "header", "footer", "main"}
    )
    _CELL_TAGS = frozenset({"td", "th"})
    _SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "head"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.title: str | None = None
        self._buffer: list[str] = []
        self._skip_depth = 0
        self._heading_level = 0
        self._in_li = False
        self._in_title = False
        self._cells: list[str] | None = None

    def _flush(self) -> None:
        # Source line breaks inside an element are layout, not structure.
        text = " ".join(" ".join(self._buffer).split())
        self._buffer.clear()
        if not text:
            return
        if self._heading_level:
            self.blocks.append(
                Block(text, Location(), is_heading=True, heading_level=self._heading_level)
            )
        else:
            self.blocks.append(Block(text, Location(), is_list_item=self._in_li))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP_TAGS:
            self._skip_depth += 1
            if tag == "head":
                self._skip_depth -= 1
            return
        if tag == "title":
            self._in_title = True
            return
        if tag in self._CELL_TAGS:
            if self._cells is None:
                self._flush()
                self._cells = []
            return
        if re.fullmatch(r"h[1-6]", tag):
            self._flush()
            self._heading_level = int(tag[1])
        elif tag in self._BLOCK_TAGS:
            self._end_row()
            self._flush()
            self._in_li = tag == "li"

    def _end_cell(self) -> None:
        if self._cells is not None:
            cell = " ".join(" ".join(self._buffer).split())
            self._buffer.clear()
            if cell:
                self._cells.append(cell)

    def _end_row(self) -> None:
        """A table row is one block, its cells joined as in Markdown and DOCX tables."""
        if self._cells is None:
            return
        self._end_cell()
        if self._cells:
            self.blocks.append(Block(" | ".join(self._cells), Location(), is_list_item=True))
        self._cells = None

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP_TAGS and tag != "head":
            self._skip_depth = max(0, self._skip_depth - 1)
            return
        if tag == "title":
            self._in_title = False
            return
        if tag in self._CELL_TAGS:
            self._end_cell()
            return
        if tag in ("tr", "table"):
            self._end_row()
        if re.fullmatch(r"h[1-6]", tag):
            self._flush()
            self._heading_level = 0
        elif tag in self._BLOCK_TAGS:
            self._flush()
            self._in_li = False

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        if self._in_title:
            self.title = _clean(data) or self.title
            return
        self._buffer.append(data)

    def close(self) -> None:
        super().close()
        self._end_row()
        self._flush()


def parse_html(text: str, *, title: str) -> LoadedDocument:
    parser = _HTMLBlocks()
    parser.feed(text)
    parser.close()
    first_heading = next((b.text for b in parser.blocks if b.is_heading), None)
    return LoadedDocument(
        title=parser.title or first_heading or title, blocks=parser.blocks, format="html"
    )


def load_pdf(path: Path, limits: PackageLimits = DEFAULT_LIMITS) -> LoadedDocument:
    """A PDF's text by page, within the limits: pages, characters, the parse-time budget
    (checked between pages) and pypdf's bound on what each stream may inflate to."""
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError, PyPdfError

    budget = Budget(path, limits)
    try:
        with pdf_limits(limits):
            reader = PdfReader(str(path))
            if reader.is_encrypted:
                try:
                    opened = bool(reader.decrypt(""))
                except Exception:  # pypdf raises several types for unsupported crypto
                    opened = False
                if not opened:
                    raise DDQError(ErrorCode.ENCRYPTED_FILE,
                                   f"{path}: the PDF is password-protected")
            # The page count the file declares, before pypdf walks the page tree (a
            # file that lies is stopped by the page-tree limit of pdf_limits).
            tree = reader.root_object.get("/Pages")
            tree = tree.get_object() if tree is not None else None
            declared = tree.get("/Count", 0) if isinstance(tree, dict) else 0
            if isinstance(declared, int) and declared > limits.max_pages:
                raise over(path, declared, "pages", limits.max_pages, "MAX_PAGES")
            pages = len(reader.pages)
            if pages > limits.max_pages:
                raise over(path, pages, "pages", limits.max_pages, "MAX_PAGES")
            blocks: list[Block] = []
            chars = 0
            for number, page in enumerate(reader.pages, start=1):
                budget.check()
                page_text = page.extract_text() or ""
                chars += len(page_text)
                if chars > limits.max_text_chars:
                    raise over(path, chars, "characters", limits.max_text_chars,
                               "MAX_TEXT_CHARS")
                for part in re.split(r"\n\s*\n|\n(?=\s*(?:[-*•]|\d{1,3}[.)])\s)", page_text):
                    cleaned = _clean(" ".join(part.split()))
                    if cleaned:
                        blocks.append(Block(cleaned, Location(page=number)))
            budget.check()
            title = ""
            if reader.metadata is not None and reader.metadata.title:
                title = str(reader.metadata.title)
    except DDQError:
        raise
    except LimitReachedError as exc:
        raise DDQError(ErrorCode.UNSAFE_FILE,
                       f"{path}: the PDF is over a safety limit ({exc}); refusing it") from exc
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DDQError(ErrorCode.UNREADABLE_FILE, f"{path}: not a readable PDF ({exc})") from exc
    return LoadedDocument(title=title or path.stem, blocks=blocks, format="pdf")


def load_docx(path: Path) -> LoadedDocument:
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        if _looks_like_ole(path):
            raise DDQError(
                ErrorCode.ENCRYPTED_FILE, f"{path}: the document is password-protected"
            ) from exc
        raise DDQError(ErrorCode.UNREADABLE_FILE, f"{path}: not a readable DOCX ({exc})") from exc
    blocks: list[Block] = []
    body = document.element.body
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(child, document)
            text = _clean(paragraph.text)
            if not text:
                continue
            style = (paragraph.style.name if paragraph.style is not None else "") or ""
            level_match = re.match(r"(?:Heading|Title)\s*(\d?)", style)
            if level_match:
                level = int(level_match.group(1) or 1)
                blocks.append(Block(text, Location(), is_heading=True, heading_level=level))
            else:
                is_list = "List" in style or child.find(".//{*}numPr") is not None
                blocks.append(Block(text, Location(), is_list_item=is_list))
        elif tag == "tbl":
            table = Table(child, document)
            for row in table.rows:
                cells: list[str] = []
                for cell in row.cells:
                    value = _clean(cell.text)
                    if value and (not cells or cells[-1] != value):
                        cells.append(value)
                if cells:
                    blocks.append(Block(" | ".join(cells), Location(), is_list_item=True))
    title = document.core_properties.title or ""
    first_heading = next((b.text for b in blocks if b.is_heading), None)
    return LoadedDocument(title=title or first_heading or path.stem, blocks=blocks, format="docx")


def _looks_like_ole(path: Path) -> bool:
    """Encrypted Office files are OLE compound files, not zip packages."""
    with path.open("rb") as handle:
        return handle.read(8) == bytes.fromhex("D0CF11E0A1B11AE1")
