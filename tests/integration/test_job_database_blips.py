"""A service job whose database connections are terminated mid-run, as a failover does,
finishes every question once the database answers again, each drafted exactly once, and its
status never shows the driver's text. Real PostgreSQL (the session's own database, so the
terminations hit nobody else), the service's real job worker, Milvus Lite and BM25, the FAKE
hashing embedder.

The terminations are the probe's: ``pg_terminate_backend`` of every other connection to the
database, in bursts spread over the job (one each time it has drafted fifteen more)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from ddq.api.jobs import JobWorker
from ddq.config import Settings
from ddq.jobs.job import QuestionnaireJob
from ddq.kb import KnowledgeBase
from ddq.store.questionnaires import QuestionnaireStore
from ddq.store.review import JobState, ReviewStore

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
QUESTIONS = 150
BURSTS = 8
TERMINATE = text("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) "
                 "FROM pg_stat_activity WHERE datname = current_database() "
                 "AND pid <> pg_backend_pid()")
DRAFTED = text("SELECT count(*) FROM answer_drafts d JOIN questionnaire_questions q "
               "ON q.id = d.question_id WHERE q.questionnaire_id = :job AND d.version = 1")
TOPICS = ["encryption at rest", "multi-factor authentication", "backups", "incident response",
          "access reviews", "data retention", "vendor management", "logging", "patching",
          "penetration testing"]


def _questionnaire(path: Path) -> Path:
    rows = [f"Q{i},How do you handle {TOPICS[i % len(TOPICS)]} for system {i}?"
            for i in range(QUESTIONS)]
    path.write_text("ID,Question,Answer\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_job_survives_terminated_connections_and_drafts_each_question_once(
        empty_pg_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="ddq.api.jobs")
    settings = Settings(home=tmp_path / "home", embedder="fake:hashing-64",
                        database_url=empty_pg_url, answer_batch_size=1)
    kb = KnowledgeBase(settings)
    killer = create_engine(make_url(empty_pg_url).set(drivername="postgresql+psycopg"),
                           isolation_level="AUTOCOMMIT")
    worker = JobWorker(kb, poll_s=0.05, retry_base_s=0.05, retry_cap_s=0.5)
    bursts: list[tuple[int, int]] = []  # (drafted before the burst, connections ended)
    try:
        kb.ingest_paths([REPO / "examples" / "knowledge"])
        info = QuestionnaireJob(kb).open(_questionnaire(tmp_path / "form.csv"))[0]
        assert info.question_count >= 100
        reviews = ReviewStore(kb.store.engine)
        assert reviews.queue(info.id, actor="test")
        worker.start()
        deadline = time.monotonic() + 180
        with killer.connect() as connection:  # its own connection is spared
            last = 0
            while len(bursts) < BURSTS:
                assert time.monotonic() < deadline, bursts
                drafted = int(connection.execute(DRAFTED, {"job": info.id}).scalar() or 0)
                if drafted >= QUESTIONS:
                    break
                if drafted >= last + QUESTIONS // (BURSTS + 2):  # further: end them again
                    ended = 0
                    for _ in range(20):
                        ended += int(connection.execute(TERMINATE).scalar() or 0)
                        time.sleep(0.01)
                    bursts.append((drafted, ended))
                    last = drafted
                time.sleep(0.02)
        state = None
        while state is not JobState.DONE:
            assert time.monotonic() < deadline, state
            try:
                status = reviews.job(info.id)
            except SQLAlchemyError:  # a connection of the pool the bursts ended
                continue
            state = status.state
            assert state is not JobState.FAILED, status.error
            time.sleep(0.05)
        retries = [r for r in caplog.records if "transient database error" in r.getMessage()]
        print(f"{len(bursts)} bursts at drafted {[b[0] for b in bursts]}, ending "
              f"{sum(b[1] for b in bursts)} connections; the worker retried {len(retries)} "
              f"times; job {status.state.value}")
        mid_run = [b for b in bursts if 0 < b[0] < QUESTIONS and b[1] > 0]
        assert len(mid_run) >= 3, bursts
        assert retries, "no termination reached the worker: the test proved nothing"
        counts = QuestionnaireStore(kb.store.engine).draft_counts(info.id)
        assert len(counts) == QUESTIONS
        assert set(counts.values()) == {1}  # every question drafted, none twice
        assert status.error is None
        answered = [e for e in kb.store.audit_entries("default")
                    if e.action == "questionnaire.answered"]
        assert len(answered) == 1
    finally:
        worker.stop()
        killer.dispose()
        kb.close()
