"""Which retrieved chunks the answerer reads: the first five, and a later one only when it
names a concept of the question that the first five never name."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddq.answer.extractive import ExtractiveAnswerer
from ddq.domain import ChunkKind, Location, RetrievalResult, SearchHit, StoredChunk
from ddq.index.keyword import BM25KeywordIndex
from ddq.models.fake import FakeHashingEmbedder

pytestmark = pytest.mark.unit

# A small handbook of our own: incident response words ("detection", "response") come
# first in the ranking; the line that says "endpoint protection (EDR)" comes seventh.
TEXTS = [
    "Detection: alerts from monitoring are triaged by the on-call engineer.",
    "The incident response plan names a commander and a communications lead.",
    "Response steps are contain, eradicate, recover and review.",
    "Incidents are detected through monitoring and reports from staff.",
    "The response team meets after every severity 1 incident.",
    "Backups are copied nightly to a second region.",
    "Laptops are enrolled in device management and run endpoint protection (EDR).",
    "Endpoint protection alerts go to the security team.",
]


def _hits(texts: list[str]) -> list[SearchHit]:
    return [
        SearchHit(
            StoredChunk(
                id=n,
                document_id=n,
                workspace="default",
                ordinal=0,
                kind=ChunkKind.PASSAGE,
                text=text,
                location=Location(),
                source_path=f"handbook-{n}.md",
                title="Handbook",
            ),
            score=1.0 / (n + 1),
        )
        for n, text in enumerate(texts)
    ]


@pytest.fixture
def answerer() -> ExtractiveAnswerer:
    # A FAKE embedder: reading the evidence needs no vectors.
    return ExtractiveAnswerer(
        embedder=FakeHashingEmbedder(), keyword_index=BM25KeywordIndex(Path("/nonexistent"))
    )


def _read(answerer: ExtractiveAnswerer, question: str) -> list[str]:
    hits = _hits(TEXTS)
    return [
        hit.chunk.text
        for hit in answerer._evidence_hits(RetrievalResult(question=question, hits=hits))
    ]


def test_a_later_chunk_that_names_the_asked_concept_is_read(answerer: ExtractiveAnswerer) -> None:
    read = _read(answerer, "Is endpoint detection and response (EDR) deployed?")
    assert read[:5] == TEXTS[:5]
    # The first later chunk that says EDR, and only that one: the concept is then named.
    assert read[5:] == [TEXTS[6]]


def test_no_later_chunk_when_the_first_ones_name_every_concept(
    answerer: ExtractiveAnswerer,
) -> None:
    assert _read(answerer, "Is there an incident response plan?") == TEXTS[:5]
    # A question the lexicon names no concept of reads the first five only.
    assert _read(answerer, "Are backups copied to another region?") == TEXTS[:5]
