"""Issue 20's examples, on a small knowledge base of our own that says the same things in
other words than the questions, answered by the real parts: the shipped all-MiniLM-L6-v2,
Milvus Lite, SQLite and BM25.

Six questions the evidence answers in plain words must be answered, with the value asked
for; three whose closest evidence is about something adjacent must be left for a person,
with a reason that says what was found and why it was not used.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ddq.config import Settings
from ddq.domain import Answer, AnswerStatus
from ddq.kb import KnowledgeBase
from ddq.models.base import Embedder

pytestmark = pytest.mark.integration

POLICIES = {
    "governance.md": """# Larkspur Freight Governance Handbook

Version 4.0, approved by the Chief Operating Officer on 2 March 2025. Owner: Director of
Security. Next scheduled review: March 2026.

## Oversight

Our information security program and each of the policies that belong to it are reviewed
every twelve months by the risk committee, and sooner after a major change.

## Exceptions

Exceptions to a policy are requested in writing and expire after 90 days.
""",
    "resilience.md": """# Larkspur Freight Resilience Standard

## Recovery targets

For the dispatch platform: RTO 6 h, RPO 12 h.

## Backups

Backups are copied nightly to a second region and restored in a test every quarter.
""",
    "cryptography.md": """# Larkspur Freight Cryptography Standard

## Storage

All customer information held in our databases and object storage is encrypted at rest
using AES-256.

## Keys

Encryption keys live in the cloud provider's key management service (KMS) and are rotated
every year by the platform team.
""",
    "logging.md": """# Larkspur Freight Logging Standard

## Retention

Log retention: 18 months. After that period, log archives are deleted automatically.

## Monitoring

Security alerts from the platform are reviewed by the on-call engineer around the clock.
""",
    "identity.md": """# Larkspur Freight Identity Standard

## Workforce sign-in

Employees and contractors sign in to every company application through Okta single
sign-on, with multi-factor authentication enforced for all staff.

## Leavers

Accounts of people who leave are disabled on their last working day.
""",
    "privacy.md": """# Larkspur Freight Privacy Notice

## Breaches

If a personal data breach affects them, we notify the affected customers without undue
delay and at the latest within 72 hours of becoming aware of it.
""",
}


@pytest.fixture
def larkspur(tmp_path: Path, local_embedder: Embedder) -> Iterator[KnowledgeBase]:
    folder = tmp_path / "knowledge"
    folder.mkdir()
    for name, text in POLICIES.items():
        (folder / name).write_text(text, encoding="utf-8")
    settings = Settings(home=tmp_path / "home", embedder="local:all-MiniLM-L6-v2")
    with KnowledgeBase(settings, embedder=local_embedder) as kb:
        kb.ingest_paths([folder])
        yield kb


def _ask_all(kb: KnowledgeBase, questions: list[str]) -> dict[str, Answer]:
    """All in one batch, as a questionnaire job answers them."""
    answers = kb.draft(kb.retriever.retrieve_many(questions))
    return dict(zip(questions, answers, strict=True))


ANSWERED = {
    # question: (words the answer must hold, the verdict when it is a yes/no question)
    "How frequently is the security programme revisited?": ("every twelve months", None),
    "What is your recovery time objective?": ("RTO 6 h", None),
    "Which cipher protects stored data?": ("AES-256", None),
    "How long do you keep logs?": ("18 months", None),
    "Which identity provider do you use?": ("Okta", None),
    "Is MFA required for every user?": ("multi-factor authentication", "yes"),
}

LEFT_FOR_A_PERSON = {
    # question: what the reason must say about the adjacent passage it did not use
    "Do you support customer-managed encryption keys (BYOK)?": "customer-managed keys",
    "Do your contracts with your suppliers require them to notify you of a security "
    "breach?": "suppliers",
    "Can the log retention period be extended on request?": "extend",
}


def test_the_questions_the_evidence_answers_are_answered(larkspur: KnowledgeBase) -> None:
    answers = _ask_all(larkspur, list(ANSWERED))
    for question, (value, verdict) in ANSWERED.items():
        answer = answers[question]
        assert answer.status is AnswerStatus.ANSWERED, (question, answer.reason)
        assert value in answer.text, (question, answer.text)
        assert answer.stance == verdict, (question, answer.text)
        assert answer.citations
        if verdict == "yes":
            assert answer.text.startswith("Yes — "), answer.text
        # A value question is answered by its value, not by a verdict of its own.
        assert not answer.text.startswith(("Yes", "No")) or verdict


def test_a_passage_about_something_adjacent_is_not_used(larkspur: KnowledgeBase) -> None:
    answers = _ask_all(larkspur, list(LEFT_FOR_A_PERSON))
    for question, subject in LEFT_FOR_A_PERSON.items():
        answer = answers[question]
        assert answer.status is AnswerStatus.NEEDS_INPUT, (question, answer.text)
        assert answer.citations == [] and answer.stance is None
        # The reason says what was found, and why it was not used.
        assert "not used" in answer.reason, answer.reason
        assert subject in answer.reason, answer.reason


def test_a_review_question_is_answered_by_the_practice_not_the_metadata(
        larkspur: KnowledgeBase) -> None:
    answer = larkspur.ask("Is the security program reviewed at least once a year?")
    assert answer.status is AnswerStatus.ANSWERED
    assert answer.stance == "yes"
    assert answer.text.startswith("Yes — Our information security program")
    for metadata in ("Version 4.0", "approved by", "Next scheduled review"):
        assert metadata not in answer.text
    # The sentence about exceptions answers nothing here.
    assert "90 days" not in answer.text

    # Asked for, the metadata is the answer.
    when = larkspur.ask("When is the governance handbook next scheduled for review?")
    assert when.status is AnswerStatus.ANSWERED
    assert "March 2026" in when.text
