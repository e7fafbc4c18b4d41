"""Which evidence the answerer embeds: a unit whose words rule it out as the answer and as
support is not embedded, and the answers are the same as when every unit is (real Milvus
Lite + SQLite + BM25, FAKE embedder)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from ddq.answer import extractive
from ddq.answer.extractive import AnswerSettings, ExtractiveAnswerer
from ddq.domain import AnswerStatus
from ddq.kb import KnowledgeBase
from ddq.models.base import Embedder, Vectors

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "knowledge"
QUESTIONS = [
    "Is customer data encrypted at rest?",
    "How often are backups tested?",
    "Do you require multi-factor authentication for administrators?",
    "Do you have an incident response plan?",
    "Is the incident response plan tested every year?",
    "Are encryption keys rotated?",
    "Do you carry cyber liability insurance?",
    "Which subprocessors do you use?",
    "Describe your access control policy.",
    "Describe how encryption keys are managed.",
    "Describe your backup and disaster recovery arrangements.",
    "Describe your incident response process.",
    "List the ways customer data is protected.",
    "Is SAML single sign-on supported?",
    "Are laptops encrypted with full-disk encryption?",
]


class Recording(Embedder):
    """The knowledge base's embedder, keeping every text it was asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        self.max_batch_size = 1 << 30  # one call is one call of the answerer
        self.texts: list[str] = []
        self.calls = 0

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        self.calls += 1
        self.texts.extend(texts)
        return self.inner.embed(texts)


def answerer(kb: KnowledgeBase) -> tuple[ExtractiveAnswerer, Recording]:
    recording = Recording(kb.embedder)
    s = kb.settings
    return ExtractiveAnswerer(
        embedder=recording, keyword_index=kb.keyword_index,
        settings=AnswerSettings(library_match_threshold=s.library_match_threshold,
                                abstain_threshold=s.abstain_threshold)), recording


def test_units_that_cannot_count_are_not_embedded_and_the_answers_stay_the_same(
        kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    kb.ingest_paths([EXAMPLES])
    retrievals = kb.retriever.retrieve_many(QUESTIONS)

    selective, chosen = answerer(kb)
    answers = selective.answer_many(retrievals)

    # The same batch with every unit of every question embedded, as before the selection.
    monkeypatch.setattr(extractive, "units_that_count",
                        lambda unfit, may_support: list(range(len(unfit))))
    everything, every = answerer(kb)
    expected = everything.answer_many(retrievals)

    assert answers == expected  # text, verdict, confidence, reason and citations
    statuses = {a.status for a in answers}
    assert AnswerStatus.ANSWERED in statuses and AnswerStatus.NEEDS_INPUT in statuses
    assert every.calls == 1  # the whole batch in one model call
    assert chosen.calls <= 2  # and a second one only for the abstentions that need it
    assert len(set(chosen.texts)) == len(chosen.texts)  # nothing embedded twice
    assert set(chosen.texts) < set(every.texts)
    # Every cited passage was embedded: what answers is never judged without its vector.
    cited = {c.quote for a in answers if a.status is AnswerStatus.ANSWERED for c in a.citations}
    assert cited
    embedded = " ".join(chosen.texts)
    for quote in cited:
        assert quote in embedded
