"""Two job workers (as two service processes would run) on one database work through a
queue of questionnaires without answering any question twice: each job is claimed by one of
them. On SQLite and on PostgreSQL, with real Milvus Lite and BM25 (FAKE hashing embedder)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ddq.api.jobs import JobWorker
from ddq.config import Settings
from ddq.jobs.job import QuestionnaireJob
from ddq.kb import KnowledgeBase
from ddq.store.questionnaires import QuestionnaireStore
from ddq.store.review import JobState, ReviewStore

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples" / "questionnaires" / "harborline_vendor_security.xlsx"
DOCX = REPO / "examples" / "questionnaires" / "harborline_investor_ddq.docx"


def test_two_workers_share_a_queue_and_answer_each_question_once(
        database_url: str, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", embedder="fake:hashing-64",
                        database_url=database_url, answer_batch_size=4)
    kb = KnowledgeBase(settings)
    workers: list[JobWorker] = []
    try:
        kb.ingest_paths([REPO / "examples" / "knowledge"])
        reviews = ReviewStore(kb.store.engine)
        files = [SAMPLE, DOCX]
        topics = ["encryption at rest", "multi-factor authentication", "backups",
                  "incident response", "access reviews", "data retention"]
        for n in range(4):  # distinct CSV questionnaires: each its own job
            rows = [f"Q{n}-{i},How do you handle {topic}? (form {n})"
                    for i, topic in enumerate(topics)]
            path = tmp_path / f"form-{n}.csv"
            path.write_text("ID,Question,Answer\n" + "\n".join(rows) + "\n", encoding="utf-8")
            files.append(path)
        ids = [QuestionnaireJob(kb).open(path)[0].id for path in files]
        assert len(set(ids)) == len(files)
        for job_id in ids:
            assert reviews.set_state(job_id, JobState.QUEUED, allowed_from={JobState.IDLE},
                                     actor="test")
        workers = [JobWorker(kb, poll_s=0.05) for _ in range(2)]
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + 120
        while any(reviews.job(i).state is not JobState.DONE for i in ids):
            assert time.monotonic() < deadline, [reviews.job(i) for i in ids]
            time.sleep(0.1)
        store = QuestionnaireStore(kb.store.engine)
        for job_id in ids:
            counts = store.draft_counts(job_id)
            assert counts and set(counts.values()) == {1}
        claims = [e for e in kb.store.audit_entries("default")
                  if e.action == "questionnaire.answered"]
        assert sorted(e.subject for e in claims) == sorted(
            store.get("default", i).name for i in ids)  # each job finished exactly once
    finally:
        for worker in workers:
            worker.stop()
        kb.close()
