"""Reworded questions, on a small knowledge base of our own whose policies say the answer in
other words than the questions ("user entitlements" against "each user's access", "third
parties" against "subprocessors", "re-acknowledge the rules for use" against "accept the
acceptable use policy"), answered by the real parts: the shipped all-MiniLM-L6-v2, Milvus
Lite, SQLite and BM25. Each must be answered with the value asked for, and a question
whose subject the policies do not state must still be left for a person.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ddq.config import Settings
from ddq.domain import AnswerStatus
from ddq.kb import KnowledgeBase
from ddq.models.base import Embedder

pytestmark = pytest.mark.integration

POLICIES = {
    "people.md": """# Tamsin Robotics People Standard

## Acceptable use

Employees accept the acceptable use policy on their first day and again every year.

## Leavers

When someone leaves, all of their accounts are disabled within one business day.
""",
    "access.md": """# Tamsin Robotics Access Standard

## Reviews

Team leads recertify each user's access every quarter; the last review was completed on
4 November 2026.

## Privileged access

Production access is granted just in time, for sessions of at most 2 hours.
""",
    "suppliers.md": """# Tamsin Robotics Supplier Standard

## Subprocessors

The subprocessors that handle customer data are Hetzner (hosting) and Postmark (email).
""",
    "devices.md": """# Tamsin Robotics Device Standard

## Laptops

Laptops are enrolled in device management, encrypted, and run endpoint protection (EDR).
""",
}


@pytest.fixture(scope="module")
def tamsin(
    tmp_path_factory: pytest.TempPathFactory, local_embedder: Embedder
) -> Iterator[KnowledgeBase]:
    root = tmp_path_factory.mktemp("tamsin")
    folder = root / "knowledge"
    folder.mkdir()
    for name, text in POLICIES.items():
        (folder / name).write_text(text, encoding="utf-8")
    settings = Settings(home=root / "home", embedder="local:all-MiniLM-L6-v2")
    with KnowledgeBase(settings, embedder=local_embedder) as kb:
        kb.ingest_paths([folder])
        yield kb


ANSWERED = {
    # question: what the answer must hold
    "How often must employees re-acknowledge the rules for use of company systems?": "every year",
    "How often are user access entitlements reviewed?": "every quarter",
    "When did the most recent access recertification finish?": "4 November 2026",
    "Which third parties process customer data on your behalf?": "Hetzner",
    "Within what timeframe are a departing employee's accounts disabled?": "one business day",
    "Is endpoint detection and response (EDR) deployed on laptops?": "endpoint protection",
    "How long may an elevated production session last?": "2 hours",
}


def test_reworded_questions_are_answered_with_the_value(tamsin: KnowledgeBase) -> None:
    questions = list(ANSWERED)
    answers = dict(
        zip(questions, tamsin.draft(tamsin.retriever.retrieve_many(questions)), strict=True)
    )
    for question, value in ANSWERED.items():
        answer = answers[question]
        assert answer.status is AnswerStatus.ANSWERED, (question, answer.reason)
        assert value in answer.text, (question, answer.text)
        assert answer.citations


def test_a_subject_the_policies_do_not_state_is_left_for_a_person(tamsin: KnowledgeBase) -> None:
    # The policies name the subprocessors, not whether they may be audited.
    answer = tamsin.ask("Do your contracts let you audit your subprocessors on site?")
    assert answer.status is AnswerStatus.NEEDS_INPUT, answer.text
