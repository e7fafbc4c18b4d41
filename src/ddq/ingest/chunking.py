"""Structure-aware chunking.

Headings become the context of the chunks under them (and are not text of their own);
paragraphs and list items are packed whole into a token budget, split at sentence ends only
when one is longer than the budget; consecutive chunks of one section share an overlap of
whole sentences; an answer-library row is always exactly one chunk.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from ddq.domain import Block, ChunkDraft, ChunkKind, LoadedDocument, Location

TokenCounter = Callable[[Sequence[str]], list[int]]

_ABBREVIATIONS = (
    "e.g", "i.e", "etc", "vs", "al", "fig", "figs", "no", "dr", "mr", "mrs", "ms", "inc", "ltd",
    "co", "corp", "approx", "ca", "cf", "u.s", "st", "sec", "art", "para", "eq", "ref",
)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip_control(text: str) -> str:
    """Drop NUL and other control characters: no database should store them as text."""
    return _CONTROL.sub("", text)


def split_sentences(text: str) -> list[str]:
    """Split prose at sentence ends, keeping common abbreviations and decimals intact."""
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        candidate = text[start : match.start()].rstrip()
        last_word = candidate.rsplit(None, 1)[-1].lower().rstrip(".") if candidate else ""
        if last_word in _ABBREVIATIONS or re.fullmatch(r"[a-z]", last_word):
            continue
        pieces.append(text[start : match.end()].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        pieces.append(tail)
    return [p for p in pieces if p]


@dataclass(slots=True)
class _Unit:
    text: str
    block_index: int
    tokens: int = 0


@dataclass(slots=True)
class _Section:
    heading_path: tuple[str, ...]
    page: int | None
    blocks: list[Block]


def _sections(document: LoadedDocument) -> list[_Section]:
    """Group consecutive prose blocks by heading path (and page, for PDFs)."""
    stack: list[tuple[int, str]] = []
    sections: list[_Section] = []
    for block in document.blocks:
        if block.library_question is not None:
            continue
        if block.is_heading:
            while stack and stack[-1][0] >= block.heading_level:
                stack.pop()
            stack.append((block.heading_level, block.text))
            continue
        path = block.location.heading_path or tuple(text for _, text in stack)
        page = block.location.page
        if sections and sections[-1].heading_path == path and sections[-1].page == page:
            sections[-1].blocks.append(block)
        else:
            sections.append(_Section(path, page, [block]))
    return sections


def _words_split(text: str, budget: int, counter: TokenCounter) -> list[str]:
    """Last resort for a 'sentence' longer than the budget: cut between words."""
    words = text.split()
    pieces: list[str] = []
    current: list[str] = []
    used = 0
    # Joined words can tokenise slightly differently; a little headroom keeps every piece
    # inside the budget.
    limit = max(budget - 2, 1)
    for word, tokens in zip(words, counter(words), strict=True):
        if current and used + tokens > limit:
            pieces.append(" ".join(current))
            current, used = [], 0
        current.append(word)
        used += tokens
    if current:
        pieces.append(" ".join(current))
    return pieces


def chunk_document(
    document: LoadedDocument,
    *,
    max_tokens: int,
    overlap_tokens: int,
    count_tokens: TokenCounter,
) -> list[ChunkDraft]:
    """Turn a loaded document into chunks that fit ``max_tokens`` of the embedding model."""
    chunks: list[ChunkDraft] = []

    def emit(text: str, kind: ChunkKind, location: Location, tokens: int, *,
             review_by: date | None = None, **extra: str | None) -> None:
        clean_extra = {k: strip_control(v) if v is not None else None for k, v in extra.items()}
        chunks.append(
            ChunkDraft(len(chunks), strip_control(text), kind, location, tokens,
                       review_by=review_by, **clean_extra)
        )

    for block in document.blocks:
        if block.library_question is not None:
            emit(block.text, ChunkKind.LIBRARY, block.location,
                 count_tokens([block.text])[0], question=block.library_question,
                 answer=block.library_answer, owner=block.library_owner,
                 review_by=block.library_review_by)

    for section in _sections(document):
        heading = " > ".join(section.heading_path) if section.heading_path else None
        units = [_Unit(block.text, index) for index, block in enumerate(section.blocks)]
        # The heading and the blocks in one call: every call into the tokenizer costs ~0.1 ms
        # before the first token, which adds up over thousands of short documents.
        counts = count_tokens(([heading] if heading else []) + [u.text for u in units])
        heading_tokens = counts.pop(0) if heading else 0
        budget = max(max_tokens - heading_tokens, max_tokens // 2)
        expanded: list[_Unit] = []
        for unit, tokens in zip(units, counts, strict=True):
            if tokens <= budget:
                unit.tokens = tokens
                expanded.append(unit)
                continue
            sentences = split_sentences(unit.text)
            for sentence, n in zip(sentences, count_tokens(sentences), strict=True):
                if n <= budget:
                    expanded.append(_Unit(sentence, unit.block_index, n))
                    continue
                pieces = _words_split(sentence, budget, count_tokens)
                for piece, m in zip(pieces, count_tokens(pieces), strict=True):
                    expanded.append(_Unit(piece, unit.block_index, m))
        location = Location(page=section.page, heading_path=section.heading_path)
        for text, tokens in _pack(expanded, budget, overlap_tokens):
            emit(text, ChunkKind.PASSAGE, location, tokens + heading_tokens)
    return chunks


def _pack(units: list[_Unit], budget: int, overlap: int) -> list[tuple[str, int]]:
    """Greedy packing of units into chunks, with whole-unit overlap between neighbours."""
    out: list[tuple[str, int]] = []
    current: list[_Unit] = []
    used = 0

    def render(selected: list[_Unit]) -> str:
        text = ""
        for position, unit in enumerate(selected):
            if position == 0:
                text = unit.text
            else:
                joiner = " " if unit.block_index == selected[position - 1].block_index else "\n"
                text += joiner + unit.text
        return text

    for unit in units:
        if current and used + unit.tokens > budget:
            out.append((render(current), used))
            carried: list[_Unit] = []
            carried_tokens = 0
            for previous in reversed(current):
                if carried_tokens + previous.tokens > overlap:
                    break
                carried.insert(0, previous)
                carried_tokens += previous.tokens
            if carried_tokens + unit.tokens > budget:
                carried, carried_tokens = [], 0
            current, used = carried, carried_tokens
        current.append(unit)
        used += unit.tokens
    if current:
        out.append((render(current), used))
    return out
