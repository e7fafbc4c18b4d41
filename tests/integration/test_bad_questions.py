"""Bad input to the drafter: text that is not a question, an empty or 5,000-character
question, another language, or only an acronym nobody defined. Each is left for a person
with a reason, in the same batch as good questions, and never stops the batch."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddq.domain import AnswerStatus
from ddq.kb import KnowledgeBase

pytestmark = pytest.mark.integration

BAD = {
    "": "empty",
    "N/A": "placeholder",
    "Access Control": "heading",
    "Please answer every question in column D.": "instruction",
    "Is customer data encrypted at rest? " + "Please also consider this. " * 200: "characters",
    "¿Cifran ustedes los datos de los clientes en reposo?": "English",
    "XQZR?": "acronym",
}


def test_bad_input_is_left_for_a_person_with_a_reason(kb: KnowledgeBase,
                                                      knowledge_folder: Path) -> None:
    kb.ingest_paths([knowledge_folder])
    good = "Is customer data encrypted at rest?"
    questions = [good, *BAD]
    answers = kb.draft(kb.retriever.retrieve_many(questions))
    assert len(answers) == len(questions)
    assert answers[0].status is AnswerStatus.ANSWERED  # the batch still answers the rest
    for answer, says in zip(answers[1:], BAD.values(), strict=True):
        assert answer.status is AnswerStatus.NEEDS_INPUT, (answer.question[:40], answer.text)
        assert answer.text == "Needs input" and answer.citations == []
        assert answer.stance is None and answer.confidence == 0.0
        assert says in answer.reason, answer.reason


def test_a_known_acronym_alone_is_still_a_question(kb: KnowledgeBase,
                                                   knowledge_folder: Path) -> None:
    kb.ingest_paths([knowledge_folder])
    answer = kb.ask("MFA?")
    assert "acronym" not in answer.reason
