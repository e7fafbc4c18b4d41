"""Asking questions of a real knowledge base (Milvus Lite + SQLite + BM25, FAKE embedder):
approved library answers win, grounded answers cite their sources, and the answerer says
"needs input" rather than guess."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ddq.domain import AnswerStatus
from ddq.errors import DDQError, ErrorCode
from ddq.ingest.pipeline import Outcome, file_items
from ddq.kb import KnowledgeBase
from ddq.models.fake import FakeHashingEmbedder
from ddq.retrieve import hybrid

pytestmark = pytest.mark.integration


@pytest.fixture
def loaded(kb: KnowledgeBase, knowledge_folder: Path) -> KnowledgeBase:
    report = kb.ingest_paths([knowledge_folder])
    assert report.count(Outcome.ADDED) == 7
    return kb


def test_library_question_returns_the_approved_answer(loaded: KnowledgeBase) -> None:
    # Same words, different case and punctuation.
    answer = loaded.ask("do you have a SOC 2 type II report")
    assert answer.status is AnswerStatus.LIBRARY
    assert answer.text == "Yes. Our SOC 2 Type II report is renewed every year."
    assert answer.stance == "yes"  # read from the approved answer
    [citation] = answer.citations
    assert citation.source_path.endswith("library.csv")
    assert citation.location == "row 2"
    assert citation.quote == "Q: Do you have a SOC 2 Type II report?"

    from_xlsx = loaded.ask("Is penetration testing performed annually?")
    assert from_xlsx.status is AnswerStatus.LIBRARY
    assert from_xlsx.text == "Yes. An independent firm tests the platform every year."
    assert from_xlsx.stance == "yes"
    assert from_xlsx.citations[0].location == "sheet 'Vendor', cell A2"
    assert from_xlsx.confidence >= 0.75


def test_grounded_answer_cites_its_sources(loaded: KnowledgeBase) -> None:
    answer = loaded.ask("Is customer data encrypted at rest?")
    assert answer.status is AnswerStatus.ANSWERED
    assert "AES-256" in answer.text
    assert answer.citations
    citation = answer.citations[0]
    assert citation.source_path.endswith("security.md")
    assert citation.location == "Security Policy > Encryption"
    cited = loaded.store.chunks_by_ids("default", [citation.chunk_id])[citation.chunk_id]
    assert citation.quote in cited.text  # the quote really is in the cited chunk
    assert 0 < answer.confidence <= 1


def test_a_negative_statement_gives_a_no(loaded: KnowledgeBase) -> None:
    answer = loaded.ask("Do you support customer-managed encryption keys?")
    assert answer.status is AnswerStatus.ANSWERED
    assert answer.stance == "no"
    assert answer.text.startswith("No — ")  # the verdict first, then the passage
    assert any("not supported" in c.quote for c in answer.citations)


def test_a_no_about_something_else_is_not_the_answer(kb: KnowledgeBase, tmp_path: Path) -> None:
    """Northwind's four false No's: a "No" in another clause of the best line, and a
    prohibition stated with "never", are not a No to the question."""
    folder = tmp_path / "standard"
    folder.mkdir()
    (folder / "engineering.md").write_text(
        "# Engineering Standard\n\n## Secrets\n\n"
        "No secrets in source code; secrets are managed in a dedicated secrets vault.\n\n"
        "## Accounts\n\n"
        "Staff never use shared administrative accounts.\n\n"
        "## Removable media\n\n"
        "Personal USB storage is prohibited on company laptops.\n\n"
        "## Keys\n\n"
        "Customer-managed encryption keys are not supported.\n",
        encoding="utf-8",
    )
    kb.ingest_paths([folder])

    vault = kb.ask("Are secrets managed in a dedicated secrets vault?")
    assert vault.status is AnswerStatus.ANSWERED
    assert "secrets vault" in vault.text
    assert vault.stance != "no" and not vault.text.startswith("No")

    shared = kb.ask("Are shared administrative accounts prohibited?")
    assert shared.status is AnswerStatus.ANSWERED
    assert "never use shared administrative accounts" in shared.text
    assert shared.stance != "no"

    # The subject's own negation still answers No.
    keys = kb.ask("Do you support customer-managed encryption keys?")
    assert keys.stance == "no"


def test_abstains_when_the_key_terms_are_absent(loaded: KnowledgeBase) -> None:
    answer = loaded.ask("Do you hold a FedRAMP High authorization?")
    assert answer.status is AnswerStatus.NEEDS_INPUT
    assert answer.text == "Needs input"
    assert answer.citations == []
    assert answer.confidence == 0.0
    assert "fedramp" in answer.reason


def test_abstains_on_an_empty_knowledge_base(kb: KnowledgeBase) -> None:
    answer = kb.ask("Is customer data encrypted at rest?")
    assert answer.status is AnswerStatus.NEEDS_INPUT
    assert answer.citations == []


def test_an_empty_question_is_invalid_input(loaded: KnowledgeBase) -> None:
    with pytest.raises(DDQError) as caught:
        loaded.ask("   ")
    assert caught.value.code is ErrorCode.INVALID_INPUT


def test_status_reports_indexes_in_sync(loaded: KnowledgeBase) -> None:
    status = loaded.status()
    assert (status.workspace, status.documents, status.library_entries) == ("default", 7, 3)
    assert status.embedding_model == "fake:hashing-64"
    assert [h.name for h in status.indexes] == [
        "ddq_chunks_fake_hashing_64_64",
        "ddq_questions_fake_hashing_64_64",
        "bm25:default",
    ]
    assert [(h.entries, h.expected, h.in_sync) for h in status.indexes] == [
        (status.chunks, status.chunks, True),
        (3, 3, True),
        (status.chunks, status.chunks, True),
    ]
    # An index that lost entries is reported, not hidden.
    loaded.chunk_index.delete([1])
    assert not loaded.status().indexes[0].in_sync


def test_a_long_lived_knowledge_base_answers_from_later_ingests(kb: KnowledgeBase, samples) -> None:
    """One process (an API server, a script) asks, ingests more, and asks again."""
    samples.text("security.md", "# Security\n\n- Customer data is encrypted at rest.\n")
    kb.ingest_paths([samples.folder])
    assert kb.ask("Is customer data encrypted at rest?").status is AnswerStatus.ANSWERED

    library = samples.text(
        "library.csv", "Question,Answer\nDo you have a SOC 2 Type II report?,Yes. Renewed yearly.\n"
    )
    extra = "\n".join(f"- Integration {i} with platypus{i} is supported." for i in range(40))
    more = samples.text("integrations.md", "# Integrations\n\n" + extra + "\n")
    kb.ingest_paths([library, more])

    assert kb.ask("Do you have a SOC 2 Type II report?").status is AnswerStatus.LIBRARY
    answer = kb.ask("Is the platypus39 integration supported?")  # vocabulary new since then
    assert answer.status is AnswerStatus.ANSWERED
    assert answer.citations[0].source_path == str(more.resolve())
    assert "platypus39" in answer.text


class CountingFakeEmbedder(FakeHashingEmbedder):
    """The FAKE hashing embedder, counting the texts it is asked to embed, call by call."""

    def __init__(self) -> None:
        super().__init__("hashing", 64)
        self.texts: list[str] = []
        self.batches: list[list[str]] = []

    def embed_batch(self, texts):  # type: ignore[no-untyped-def]
        self.texts.extend(texts)
        self.batches.append(list(texts))
        return super().embed_batch(texts)


def test_evidence_vectors_are_kept_for_the_next_process(settings, knowledge_folder: Path
                                                        ) -> None:
    question = "Is customer data encrypted at rest?"
    with KnowledgeBase(settings) as kb:
        kb.ingest_paths([knowledge_folder])
        before = kb.store.counts(kb.workspace).cached_embeddings
        first = kb.ask(question)
        assert first.status is AnswerStatus.ANSWERED
        assert kb.store.counts(kb.workspace).cached_embeddings > before
    counting = CountingFakeEmbedder()
    with KnowledgeBase(settings, embedder=counting) as again:
        second = again.ask(question)
    # Only retrieval embeds the question; every evidence sentence came from the store.
    assert counting.texts == [question]
    assert (second.text, second.citations, second.confidence) == (
        first.text, first.citations, first.confidence)


def test_the_answerer_scores_evidence_against_the_vector_retrieval_made(
        settings, knowledge_folder: Path) -> None:
    """A question is embedded once, by retrieval, not again by the answerer: one by one and
    in a batch, with nothing cached yet."""
    question = "Is customer data encrypted at rest?"
    other = "Do you support customer-managed encryption keys?"
    counting = CountingFakeEmbedder()
    with KnowledgeBase(settings, embedder=counting) as kb:
        kb.ingest_paths([knowledge_folder])
        counting.texts.clear()
        answer = kb.ask(question)
        assert counting.texts.count(question) == 1
        assert answer.status is AnswerStatus.ANSWERED
        assert len(counting.texts) > 1  # the evidence lines were embedded (not yet cached)

        counting.texts.clear()
        retrievals = kb.retriever.retrieve_many([question, other])
        assert all(r.vector is not None for r in retrievals)
        batch = kb.draft(retrievals)
        assert counting.texts.count(question) == counting.texts.count(other) == 1
    assert (batch[0].text, batch[0].citations) == (answer.text, answer.citations)
    assert batch[1].stance == "no"


def test_a_job_embeds_each_question_once_ahead_of_its_batch(
        settings, knowledge_folder: Path, tmp_path: Path) -> None:
    """The job embeds the questions of several batches in one call and drafts each batch
    from those vectors: every question is embedded once, and the drafts are the ones the
    plain batch path makes."""
    from ddq.jobs.job import QuestionnaireJob

    questions = ["Is customer data encrypted at rest?",
                 "Do you support customer-managed encryption keys?",
                 "Do you have a SOC 2 Type II report?",
                 "Is penetration testing performed annually?",
                 "Who is the data protection officer?"]
    path = tmp_path / "questionnaire.csv"
    path.write_text("id,question\n" + "".join(f"Q{i},{q}\n" for i, q in enumerate(questions)),
                    encoding="utf-8")
    counting = CountingFakeEmbedder()
    with KnowledgeBase(settings, embedder=counting) as kb:
        kb.ingest_paths([knowledge_folder])
        expected = kb.draft(kb.retriever.retrieve_many(questions))
    with KnowledgeBase(settings, embedder=counting) as kb:  # as a new process would
        job = QuestionnaireJob(kb, batch_size=2)
        info, _ = job.open(path)
        counting.texts.clear()
        counting.batches.clear()
        result = job.run(info)
        drafts = job.store.drafts(info.id)
        texts = {q.id: q.text for q in job.store.questions(info.id)}
        with pytest.raises(ValueError, match="2 vectors for 3 questions"):
            kb.retriever.retrieve_many(questions[:3], vectors=np.zeros((2, counting.dimension),
                                                                        dtype=np.float32))
    assert result.answered_now == len(questions)
    assert [counting.texts.count(q) for q in questions] == [1] * len(questions)
    assert questions in counting.batches  # three batches of 2, their questions in one call
    made = {texts[qid]: draft for qid, draft in drafts.items()}
    for question, answer in zip(questions, expected, strict=True):
        assert (made[question].text, made[question].status) == (answer.text, answer.status)


def test_a_library_written_by_another_process_is_seen_within_the_recheck_interval(
        kb: KnowledgeBase, samples, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a library, questions asked one at a time do not each count library entries;
    a library another process adds is found once the recheck interval has passed."""
    samples.text("security.md", "# Security\n\n- Customer data is encrypted at rest.\n")
    kb.ingest_paths([samples.folder])
    counts: list[int] = []
    real_count = kb.store.library_entry_count
    monkeypatch.setattr(kb.store, "library_entry_count",
                        lambda workspace: counts.append(1) or real_count(workspace))
    clock = [1000.0]
    monkeypatch.setattr(kb.retriever, "_clock", lambda: clock[0])
    question = "Do you have a SOC 2 Type II report?"
    for _ in range(5):
        assert kb.ask(question).status is not AnswerStatus.LIBRARY
    assert len(counts) == 1

    # Another process's ingestion: the same store and indexes, without this retriever knowing.
    library = samples.text("library.csv", f"Question,Answer\n{question},Yes. Renewed yearly.\n")
    assert kb.pipeline().run(file_items([library], None), total=1).changed
    assert kb.ask(question).status is not AnswerStatus.LIBRARY  # not looked for yet
    clock[0] += hybrid.LIBRARY_RECHECK_SECONDS
    assert kb.ask(question).status is AnswerStatus.LIBRARY
    assert len(counts) == 2
