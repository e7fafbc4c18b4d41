"""The REAL local embedding model (all-MiniLM-L6-v2 shipped in a PyPI package): one shared
instance, loaded offline; the rest of the suite uses the FAKE embedder for speed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ddq.config import Settings
from ddq.domain import AnswerStatus
from ddq.ingest.pipeline import Outcome
from ddq.kb import KnowledgeBase
from ddq.models.base import Embedder

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_embeddings_are_384_d_normalised_and_semantic(local_embedder: Embedder) -> None:
    assert local_embedder.model_id == "local:all-MiniLM-L6-v2"
    assert local_embedder.dimension == 384
    question, paraphrase, unrelated, also_unrelated = local_embedder.embed(
        [
            "Is customer data encrypted when it is stored?",
            "All client information is encrypted at rest.",
            "The cafeteria serves lunch from noon until two.",
            "Our quarterly revenue grew by twelve percent.",
        ]
    )
    assert question.shape == (384,) and question.dtype == np.float32
    for vector in (question, paraphrase, unrelated, also_unrelated):
        assert float(np.linalg.norm(vector)) == pytest.approx(1.0, abs=1e-4)
    assert float(question @ paraphrase) > float(question @ unrelated) + 0.3
    assert float(question @ paraphrase) > float(question @ also_unrelated) + 0.3
    # Deterministic: the same text gives the same vector.
    np.testing.assert_allclose(
        local_embedder.embed_one("Is customer data encrypted when it is stored?"),
        question,
        atol=1e-5,
    )
    # Token counts come from the model's own tokenizer, not an estimate.
    assert local_embedder.count_tokens(["encryption", "hello world", ""]) == [1, 2, 0]


def test_default_model_ingests_and_answers(
    tmp_path: Path, knowledge_folder: Path, local_embedder: Embedder
) -> None:
    settings = Settings(home=tmp_path / "home", embedder="local:all-MiniLM-L6-v2")
    with KnowledgeBase(settings, embedder=local_embedder) as kb:
        report = kb.ingest_paths([knowledge_folder])
        assert report.count(Outcome.ADDED) == 7
        assert kb.chunk_index.name == "ddq_chunks_local_all_minilm_l6_v2_384"
        for batch in kb.store.iter_chunks("default"):
            counts = local_embedder.count_tokens([c.embedding_text for c in batch])
            assert max(counts) <= settings.chunk_tokens

        grounded = kb.ask("Is customer data encrypted at rest?")
        assert grounded.status is AnswerStatus.ANSWERED
        assert grounded.citations[0].source_path.endswith("security.md")
        assert "AES-256" in grounded.text

        # A reworded library question still finds the approved answer.
        library = kb.ask("Do you have a SOC 2 Type 2 report?")
        assert library.status is AnswerStatus.LIBRARY
        assert library.text.startswith("Yes. Our SOC 2 Type II report")

        absent = kb.ask("Do you hold a FedRAMP High authorization?")
        assert absent.status is AnswerStatus.NEEDS_INPUT
        assert all(h.in_sync for h in kb.status().indexes)
