"""The nouns that move between pipeline stages, as typed dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any


class ChunkKind(StrEnum):
    PASSAGE = "passage"
    LIBRARY = "library"  # one approved question/answer pair from an answer library


def past_review(review_by: date | None, today: date | None = None) -> bool:
    """Whether an answer's review-by date has passed: from then on it is evidence, never an
    answer to reuse as it is, until its owner reviews it again."""
    return review_by is not None and review_by < (today or datetime.now(UTC).date())


@dataclass(frozen=True, slots=True)
class Location:
    """Where a piece of text sits inside its file, for citations."""

    page: int | None = None
    sheet: str | None = None
    row: int | None = None
    heading_path: tuple[str, ...] = ()
    #: The answer's place in an answered questionnaire: a cell ("D12", with ``sheet``), or
    #: a document's place ("table 2 row 4"); and the form's id of the question ("HFIH-01").
    cell: str | None = None
    qid: str | None = None

    def describe(self) -> str:
        parts: list[str] = []
        if self.page is not None:
            parts.append(f"p. {self.page}")
        if self.sheet is not None:
            parts.append(f"sheet {self.sheet!r}")
        if self.row is not None and self.cell is None:
            parts.append(f"row {self.row}")
        if self.cell is not None:
            parts.append(f"cell {self.cell}" if self.sheet is not None else self.cell)
        if self.qid is not None:
            parts.append(f"question {self.qid}")
        if self.heading_path:
            parts.append(" > ".join(self.heading_path))
        return ", ".join(parts)

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "page": self.page,
            "sheet": self.sheet,
            "row": self.row,
            "heading_path": list(self.heading_path),
        }
        if self.cell is not None:
            data["cell"] = self.cell
        if self.qid is not None:
            data["qid"] = self.qid
        return data

    @classmethod
    def from_json(cls, data: dict[str, object] | None) -> Location:
        if not data:
            return cls()
        page, row, sheet = data.get("page"), data.get("row"), data.get("sheet")
        headings = data.get("heading_path") or []
        cell, qid = data.get("cell"), data.get("qid")
        return cls(
            page=int(page) if isinstance(page, int) else None,
            sheet=str(sheet) if sheet is not None else None,
            row=int(row) if isinstance(row, int) else None,
            heading_path=tuple(str(h) for h in headings) if isinstance(headings, list) else (),
            cell=str(cell) if cell is not None else None,
            qid=str(qid) if qid is not None else None,
        )


def embedding_text(
    kind: ChunkKind, text: str, location: Location, question: str | None, answer: str | None
) -> str:
    """What the embedder sees: the heading path gives a passage its context."""
    if kind is ChunkKind.LIBRARY:
        return f"{question}\n{answer}"
    if location.heading_path:
        return " > ".join(location.heading_path) + "\n" + text
    return text


@dataclass(frozen=True, slots=True)
class Block:
    """A structural unit read from a file: a paragraph, list item, heading or library row."""

    text: str
    location: Location
    is_heading: bool = False
    heading_level: int = 0
    is_list_item: bool = False
    library_question: str | None = None
    library_answer: str | None = None
    library_owner: str | None = None
    #: The date after which a library row is evidence only, not an answer to reuse as it
    #: is, until its owner reviews it again (a "Review by" column).
    library_review_by: date | None = None


@dataclass(frozen=True, slots=True)
class LoadedDocument:
    """What a loader returns: a title and the ordered blocks of the file."""

    title: str
    blocks: list[Block]
    format: str
    #: What a person should know about how the file was read ("91 answered questions as
    #: library entries", "4 questions without an answer skipped"), shown by ``ddq ingest``.
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ChunkDraft:
    """A chunk before it has an id in the store."""

    ordinal: int
    text: str
    kind: ChunkKind
    location: Location
    token_count: int
    question: str | None = None
    answer: str | None = None
    owner: str | None = None
    review_by: date | None = None

    @property
    def embedding_text(self) -> str:
        return embedding_text(self.kind, self.text, self.location, self.question, self.answer)


@dataclass(frozen=True, slots=True)
class StoredChunk:
    """A chunk as read back from the store, with its document's source."""

    id: int
    document_id: int
    workspace: str
    ordinal: int
    kind: ChunkKind
    text: str
    location: Location
    source_path: str
    title: str
    question: str | None = None
    answer: str | None = None
    #: A library row's review-by date, past which it is evidence only.
    review_by: date | None = None

    def stale(self, today: date | None = None) -> bool:
        return past_review(self.review_by, today)

    @property
    def embedding_text(self) -> str:
        return embedding_text(self.kind, self.text, self.location, self.question, self.answer)

    @property
    def keyword_text(self) -> str:
        return f"{self.title}\n{self.embedding_text}"

    def citation_label(self) -> str:
        where = self.location.describe()
        return f"{self.source_path} ({where})" if where else self.source_path


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One retrieved chunk with its fused score and the per-signal ranks that produced it."""

    chunk: StoredChunk
    score: float
    dense_score: float | None = None
    keyword_score: float | None = None
    dense_rank: int | None = None
    keyword_rank: int | None = None
    #: The reranker's score, when a reranker reordered the fused list.
    rerank_score: float | None = None


@dataclass(frozen=True, slots=True)
class LibraryMatch:
    """An approved library entry whose question matches the asked question."""

    chunk: StoredChunk
    similarity: float


@dataclass(frozen=True, slots=True)
class RetrievalResult:
    question: str
    hits: list[SearchHit]
    library_matches: list[LibraryMatch] = field(default_factory=list)
    #: The question's vector, as retrieval embedded it: the answerer scores evidence against
    #: it instead of embedding (or looking up) the question again. None when not known.
    vector: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Citation:
    chunk_id: int
    source_path: str
    location: str
    quote: str


class AnswerStatus(StrEnum):
    ANSWERED = "answered"
    LIBRARY = "library_match"
    NEEDS_INPUT = "needs_input"


@dataclass(frozen=True, slots=True)
class Answer:
    question: str
    status: AnswerStatus
    text: str
    confidence: float
    reason: str
    citations: list[Citation]
    stance: str | None = None  # "yes" / "no" for yes-no questions, when the evidence says so
    #: Who drafted it: "extractive", "library" (an approved answer used as is), a
    #: generator's model id, or "extractive (fallback: why)".
    drafted_by: str = "extractive"
