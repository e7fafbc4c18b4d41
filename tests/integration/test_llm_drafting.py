"""LLM drafting end to end: the openai provider over a real socket against a FAKE server
that misbehaves on purpose, a real knowledge base (Milvus Lite, SQLite, keyword index) and
the call policy. A broken reply never becomes a filled answer; an unreachable model falls
back to the extractive drafter, and the draft says so."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ddq.answer.grounded import GroundedDrafter
from ddq.config import Settings
from ddq.domain import AnswerStatus
from ddq.kb import KnowledgeBase
from ddq.models.base import Role
from ddq.models.calls import BreakerState, reset_model_stats, stats_for
from support.misbehaving_server import MisbehavingServer, misbehaving_server

pytestmark = pytest.mark.integration

FAKE_MODEL = "fake:hashing-64"
MODEL = "openai:test-model"
POLICY = """\
# Security policy

## Encryption
Customer data is encrypted at rest with AES-256 and in transit with TLS 1.2 or higher.

## Access control
Multi-factor authentication is required for all remote access and for administrators.

## Backups
Backups run daily and are tested by a restore every quarter.

## Incident response
Security incidents are triaged within one hour and customers are notified within 72 hours.
"""
QUESTIONS = [
    "Is customer data encrypted at rest?",
    "Is multi-factor authentication required for remote access?",
    "How often are backups tested?",
    "How quickly are customers notified of security incidents?",
]


@pytest.fixture
def server() -> Iterator[MisbehavingServer]:
    reset_model_stats()
    with misbehaving_server() as running:
        yield running


def open_kb(tmp_path: Path, server: MisbehavingServer, **overrides: object) -> KnowledgeBase:
    values: dict[str, object] = dict(
        home=tmp_path / "home", embedder=FAKE_MODEL, generator=MODEL,
        openai_base_url=server.base_url, model_retries=1, model_backoff_s=0.01,
        model_timeout_s=2.0, breaker_failures=50, model_concurrency=4)
    values.update(overrides)
    kb = KnowledgeBase(Settings(**values))  # type: ignore[arg-type]
    docs = tmp_path / "docs"
    if not docs.exists():
        docs.mkdir()
        (docs / "security-policy.md").write_text(POLICY, encoding="utf-8")
    kb.ingest_paths([docs])
    return kb


def draft(kb: KnowledgeBase, questions: list[str] = QUESTIONS) -> list:  # type: ignore[type-arg]
    return kb.drafter.answer_many(kb.retriever.retrieve_many(questions))


def test_a_well_behaved_server_drafts_cited_answers(tmp_path: Path,
                                                    server: MisbehavingServer) -> None:
    with open_kb(tmp_path, server) as kb:
        assert isinstance(kb.drafter, GroundedDrafter)
        answers = draft(kb)
    assert [a.status for a in answers] == [AnswerStatus.ANSWERED] * len(QUESTIONS)
    for answer in answers:
        assert answer.drafted_by == MODEL
        assert answer.citations and answer.citations[0].source_path.endswith("security-policy.md")
        assert 0.0 < answer.confidence <= 1.0
    assert answers[0].text.startswith("Yes.")  # the verdict, for a yes/no question
    assert answers[0].stance == "yes"
    # The evidence went to the model as numbered data blocks, with the schema.
    body = server.bodies[0]
    assert '<evidence id="E1"' in body["messages"][1]["content"]
    assert body["response_format"]["type"] == "json_schema"
    stats = stats_for(MODEL, Role.GENERATOR)
    assert stats.calls == len(QUESTIONS)
    assert stats.prompt_tokens == 50 * len(QUESTIONS)


@pytest.mark.parametrize("mode", ["invalid-json", "wrong-citation", "uncited"])
def test_a_broken_reply_is_retried_once_then_marked_needs_input(
        tmp_path: Path, server: MisbehavingServer, mode: str) -> None:
    server.mode = mode
    with open_kb(tmp_path, server) as kb:
        answers = draft(kb)
    assert [a.status for a in answers] == [AnswerStatus.NEEDS_INPUT] * len(QUESTIONS)
    assert all(a.text == "Needs input" and not a.citations for a in answers)
    assert all("rejected twice" in a.reason for a in answers)
    assert server.requests == 2 * len(QUESTIONS)  # one retry each, then it gives up
    # The retry told the model what was wrong.
    assert "was rejected" in server.bodies[-1]["messages"][-1]["content"]


@pytest.mark.parametrize("mode", ["status:429", "status:503", "close"])
def test_transient_failures_are_retried_and_the_job_goes_on(
        tmp_path: Path, server: MisbehavingServer, mode: str) -> None:
    server.mode = mode
    with open_kb(tmp_path, server, model_retries=1) as kb:
        first = draft(kb, QUESTIONS[:1])[0]
        # Still failing after the retry: the extractive drafter answered, and says so.
        assert server.requests == 2
        assert first.drafted_by.startswith("extractive (fallback")
        assert "drafted without the LLM" in first.reason
        assert first.status is not AnswerStatus.ANSWERED or first.citations
        server.mode = "ok"
        server.reset_counts()
        again = draft(kb, QUESTIONS[:1])[0]
    assert again.drafted_by == MODEL
    assert server.requests == 1


def test_a_request_error_is_not_retried(tmp_path: Path, server: MisbehavingServer) -> None:
    server.mode = "status:401"
    with open_kb(tmp_path, server, model_retries=3) as kb:
        answer = draft(kb, QUESTIONS[:1])[0]
    assert server.requests == 1
    assert "HTTP 401" in answer.drafted_by


def test_a_hanging_server_times_out_and_falls_back(tmp_path: Path,
                                                   server: MisbehavingServer) -> None:
    server.mode = "hang"
    server.hang_s = 3.0
    with open_kb(tmp_path, server, model_timeout_s=0.3, model_retries=1) as kb:
        started = time.perf_counter()
        answer = draft(kb, QUESTIONS[:1])[0]
        elapsed = time.perf_counter() - started
    assert "timed out" in answer.drafted_by
    assert elapsed < 2.5  # two attempts of 0.3 s, not the server's 3 s


def test_circuit_breaker_opens_falls_back_and_closes_when_the_server_recovers(
        tmp_path: Path, server: MisbehavingServer) -> None:
    server.mode = "status:503"
    with open_kb(tmp_path, server, model_retries=0, breaker_failures=3,
                 breaker_reset_s=1.0, model_concurrency=1) as kb:
        answers = draft(kb)
        # Three failures open it; the fourth question never reaches the server.
        assert server.requests == 3
        assert all(a.drafted_by.startswith("extractive (fallback") for a in answers)
        assert "circuit open" in answers[-1].drafted_by
        stats = stats_for(MODEL, Role.GENERATOR)
        assert stats.breaker is BreakerState.OPEN
        assert stats.rejected_open == 1
        # The fallback drafts are real extractive answers with citations.
        assert any(a.status is AnswerStatus.ANSWERED and a.citations for a in answers)

        server.mode = "ok"
        server.reset_counts()
        assert draft(kb, QUESTIONS[:1])[0].drafted_by.startswith("extractive (fallback")
        assert server.requests == 0  # still open: refused without a call
        time.sleep(1.1)
        recovered = draft(kb)
    assert [a.drafted_by for a in recovered] == [MODEL] * len(QUESTIONS)
    assert stats_for(MODEL, Role.GENERATOR).breaker is BreakerState.CLOSED


def test_drafting_runs_concurrently_up_to_the_limit(tmp_path: Path,
                                                     server: MisbehavingServer) -> None:
    server.mode = "slow"
    server.delay_s = 0.2
    questions = [f"{q} (variant {i})" for i in range(4) for q in QUESTIONS]
    with open_kb(tmp_path, server, model_concurrency=8) as kb:
        answers = draft(kb, questions)
    assert len(answers) == 16
    assert server.max_in_flight == 8
    assert stats_for(MODEL, Role.GENERATOR).max_in_flight == 8
