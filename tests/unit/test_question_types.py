"""What a question asks for: the type a correct answer must hold, and text that is not a
question at all."""

from __future__ import annotations

import pytest

from ddq.answer.question_types import (
    QuestionType,
    classify_question,
    not_a_question,
    question_shape,
)

pytestmark = pytest.mark.unit

Q = QuestionType


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Is MFA required for every user?", Q.VERDICT),
        ("Do you encrypt backups?", Q.VERDICT),
        ("Please confirm whether backups are encrypted.", Q.VERDICT),
        ("How frequently is the security programme revisited?", Q.FREQUENCY),
        ("At what interval are access rights re-certified?", Q.FREQUENCY),
        ("What is your recovery time objective?", Q.DURATION),
        ("How long do you keep logs?", Q.DURATION),
        ("Within what timeframe are customers told of a breach?", Q.DURATION),
        ("When was your most recent penetration test?", Q.DATE),
        ("Which TLS versions are supported?", Q.VERSION),
        ("Which cipher protects stored data?", Q.NAMED),
        ("Which identity provider do you use?", Q.NAMED),
        ("Who is responsible for information security?", Q.NAMED),
        ("Where is customer data stored?", Q.NAMED),
        ("List your subprocessors.", Q.LIST),
        ("What certifications do you hold?", Q.LIST),
        ("Describe your incident response process.", Q.DESCRIPTION),
        ("How is customer data handled at the end of a contract?", Q.DESCRIPTION),
        ("Access Control", Q.NOT_A_QUESTION),
        ("N/A", Q.NOT_A_QUESTION),
    ],
)
def test_classify_question(question: str, expected: QuestionType) -> None:
    assert classify_question(question) is expected


def test_the_type_is_a_plain_string_for_reports() -> None:
    assert classify_question("How often are backups tested?") == "frequency"
    assert {t.value for t in QuestionType} >= {"verdict", "not_a_question", "list"}


def test_a_compound_question_is_a_verdict_that_also_wants_its_value() -> None:
    shape = question_shape("Do you rotate encryption keys, and how often?")
    assert shape.type is Q.VERDICT
    assert shape.wants is Q.FREQUENCY
    assert question_shape("Do you rotate encryption keys?").wants is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        ("   \n ", "empty"),
        ("N/A", "placeholder"),
        ("-", "placeholder"),
        ("Access Control", "heading"),
        ("3. Encryption and Key Management", "heading"),
        ("Encryption:", "heading"),
        ("Please answer every question in column D.", "instruction"),
        ("Instructions: select one value per row", "instruction"),
        ("x" * 5000, "characters long"),
        ("Is " + "data " * 1200 + "encrypted?", "characters long"),
        ("¿Cifran ustedes los datos en reposo?", "English"),
        ("Verschlüsseln Sie Daten im Ruhezustand?", "English"),
        ("Шифруете ли вы данные?", "English"),
        ("お客様のデータは暗号化されていますか？", "English"),
    ],
)
def test_what_is_not_a_question_says_why(text: str, says: str) -> None:
    problem = not_a_question(text)
    assert says in problem
    assert classify_question(text) is Q.NOT_A_QUESTION


@pytest.mark.parametrize(
    "text",
    [
        "Is data encrypted at rest?",
        # A form's yes/no row written as a statement in sentence case is not a heading.
        "Multi-factor authentication for remote access",
        "Describe how backups are tested.",
        "SOC 2?",
    ],
)
def test_questions_are_questions(text: str) -> None:
    assert not_a_question(text) == ""
