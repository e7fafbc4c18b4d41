"""The ``openai`` provider against a REAL OpenAI-compatible server: llama.cpp's, on a tiny
random-weight model the tests write. Its replies are nonsense, which is the point: whatever
it says, a draft is either a validated, cited answer or "needs input", and the job goes on.
Switching models is configuration only: ``ddq models`` lists and checks each."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ddq.answer.grounded import GroundedDrafter
from ddq.config import Settings
from ddq.domain import AnswerStatus
from ddq.kb import KnowledgeBase
from ddq.models.base import ChatMessage, GenerateOptions, GenerateRequest, Role
from ddq.models.calls import GuardedGenerator, reset_model_stats, stats_for
from ddq.models.openai_compat import OpenAIGenerator

pytestmark = pytest.mark.integration

POLICY = """\
# Security policy

## Encryption
Customer data is encrypted at rest with AES-256 and in transit with TLS 1.2 or higher.

## Backups
Backups run daily and a restore is tested every quarter.
"""
QUESTIONS = [
    "Is customer data encrypted at rest?",
    "How often is a restore from backup tested?",
    "Which TLS versions are accepted?",
    "Do you encrypt backups?",
]


def test_chat_completion_through_the_provider(llama_server: str) -> None:
    generator = OpenAIGenerator("tiny", base_url=llama_server, api_key=None)
    response = generator.generate(GenerateRequest(
        messages=[ChatMessage(role="user", content="Say hello.")],
        options=GenerateOptions(max_tokens=32)), timeout_s=30)
    assert response.model_id == "openai:tiny"
    assert response.finish_reason in ("stop", "length")
    assert response.usage.prompt_tokens > 0
    assert response.latency_s > 0


def test_drafts_from_a_nonsense_model_are_validated_or_marked(tmp_path: Path,
                                                             llama_server: str) -> None:
    reset_model_stats()
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "policy.md").write_text(POLICY, encoding="utf-8")
    settings = Settings(home=tmp_path / "home", embedder="fake:hashing-64",
                        generator="openai:tiny", openai_base_url=llama_server,
                        generator_max_tokens=200, model_timeout_s=60, model_retries=1,
                        model_backoff_s=0.01)
    with KnowledgeBase(settings) as kb:
        kb.ingest_paths([docs])
        drafter = kb.drafter
        assert isinstance(drafter, GroundedDrafter)
        retrievals = kb.retriever.retrieve_many(QUESTIONS)
        answers = drafter.answer_many(retrievals)
        generator = kb.generator
    assert isinstance(generator, GuardedGenerator)
    inner = generator.inner
    assert isinstance(inner, OpenAIGenerator)
    # The server refuses OpenAI's json_schema form; the provider moved to the json_object +
    # schema form llama.cpp understands, and kept it.
    assert inner._json_mode == 1
    assert len(answers) == len(QUESTIONS)
    for answer in answers:
        assert answer.drafted_by == "openai:tiny"  # the model was reached, no fallback
        if answer.status is AnswerStatus.ANSWERED:
            assert answer.citations  # a filled answer always cites what it was given
            assert all(c.source_path.endswith("policy.md") for c in answer.citations)
        else:
            assert answer.status is AnswerStatus.NEEDS_INPUT
            assert answer.text == "Needs input" and not answer.citations
    stats = stats_for("openai:tiny", Role.GENERATOR)
    assert stats.calls >= len(QUESTIONS)
    assert stats.prompt_tokens > 0 and stats.completion_tokens > 0


def ddq_models(home: Path, env: dict[str, str]) -> tuple[int, list[dict[str, object]], str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DDQ_")}
    clean.update({"NO_COLOR": "1", **env})
    done = subprocess.run([sys.executable, "-m", "ddq.cli", "models", "--json",
                           "--home", str(home)], env=clean, capture_output=True, text=True,
                          timeout=300)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout), done.stderr


def test_switching_models_is_configuration_only(tmp_path: Path, llama_server: str) -> None:
    home = tmp_path / "home"
    extractive = {"DDQ_EMBEDDER": "fake:hashing-64", "DDQ_GENERATOR": "extractive"}
    code, checks, _ = ddq_models(home, extractive)
    assert code == 0
    assert [(c["role"], c["model"], c["ok"]) for c in checks] == [
        ("embedder", "fake:hashing-64", True), ("generator", "extractive", True),
        ("reranker", "(none)", None)]

    llm = {"DDQ_EMBEDDER": "fake:hashing-64", "DDQ_GENERATOR": "openai:tiny",
           "DDQ_OPENAI_BASE_URL": llama_server, "DDQ_OPENAI_API_KEY": "sk-secret-not-shown"}
    code, checks, stderr = ddq_models(home, llm)
    assert code == 0, stderr
    generator = checks[1]
    assert (generator["model"], generator["ok"]) == ("openai:tiny", True)
    assert "answers" in str(generator["detail"])
    assert "sk-secret-not-shown" not in json.dumps(checks) + stderr

    for embedder in ("local:all-MiniLM-L6-v2", "onnx:all-MiniLM-L6-v2"):
        code, checks, stderr = ddq_models(home, {**llm, "DDQ_EMBEDDER": embedder})
        assert code == 0, stderr
        assert (checks[0]["model"], checks[0]["ok"]) == (embedder, True)
        assert "384-d vectors" in str(checks[0]["detail"])

    down = {**llm, "DDQ_OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "DDQ_MODEL_RETRIES": "0"}
    code, checks, _ = ddq_models(home, down)
    assert code == 1
    assert checks[1]["ok"] is False
    assert "connection failed" in str(checks[1]["detail"])
