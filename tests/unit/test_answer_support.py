"""The pieces the answerer decides with: values of a type in evidence, metadata lines,
subject numbers, a negation about something else, universal claims, quoting."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddq.answer.question_types import QuestionType, question_shape
from ddq.answer.support import (
    asks_metadata,
    is_metadata,
    names_number,
    subject_numbers,
    unique_sentences,
    without_label,
)
from ddq.answer.text import negation_elsewhere, says_universal, strip_verdict
from ddq.answer.values import value_in
from ddq.index.keyword import BM25KeywordIndex

pytestmark = pytest.mark.unit

Q = QuestionType


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("The programme is reviewed every twelve months.", Q.FREQUENCY, "every twelve months"),
        ("Scans run quarterly.", Q.FREQUENCY, "quarterly"),
        ("Monitored around the clock.", Q.FREQUENCY, "around the clock"),
        ("Targets: RTO 6 h, RPO 12 h.", Q.DURATION, "6 h"),
        ("Log retention: 18 months.", Q.DURATION, "18 months"),
        ("Revoked within one business day.", Q.DURATION, "one business day"),
        ("The last test was held on 2 June 2026.", Q.DATE, "2 June 2026"),
        ("Completed in Q3 2025.", Q.DATE, "Q3 2025"),
        ("Connections require TLS 1.2 or newer.", Q.VERSION, "TLS 1.2"),
        ("Staff sign in through Okta.", Q.NAMED, "Okta"),
        ("Data is encrypted with AES-256.", Q.NAMED, "AES-256"),
    ],
)
def test_a_value_of_the_type_asked(text: str, kind: QuestionType, value: str) -> None:
    assert value_in(text, kind) == value


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Logs are kept as long as needed.", Q.DURATION),
        ("The plan is tested regularly by the team.", Q.DATE),
        ("encryption is used everywhere.", Q.VERSION),
    ],
)
def test_no_value_of_the_type_asked(text: str, kind: QuestionType) -> None:
    assert value_in(text, kind) is None


def test_a_name_the_question_uses_is_not_the_name_it_asks_for() -> None:
    asked = frozenset("which firm audits your soc 2 controls".split())
    assert value_in("An independent audit firm issues a SOC 2 Type II report every year.",
                    Q.NAMED, asked=asked) is None
    assert value_in("The SOC 2 Type II report is issued by Harbor Assurance LLP.", Q.NAMED,
                    asked=asked) == "Harbor"


def test_metadata_lines() -> None:
    assert is_metadata("Version 3.2, approved by the CEO on 14 February 2025.")
    assert is_metadata("Owner: Head of Security")
    assert is_metadata("Next scheduled review: February 2026.")
    assert is_metadata("last_reviewed: 2026-01-15")
    assert not is_metadata("The policy is reviewed at least once a year.")
    question = "Is the policy reviewed at least once a year?"
    assert not asks_metadata(question, question_shape(question))
    for asks in ("When was the policy last reviewed?", "Who approved the policy?",
                 "What version is the policy?"):
        assert asks_metadata(asks, question_shape(asks))


def test_subject_numbers_go_with_their_acronym() -> None:
    assert subject_numbers("Are you SOC 1 certified?") == {"soc 1"}
    assert subject_numbers("Is access removed within 1 business day, 24/7?") == set()
    assert names_number("holds an ISO/IEC 27001:2022 certificate", "iso 27001")
    # "1 January" is not SOC 1.
    assert not names_number("SOC 2 report covering 1 January to 31 December", "soc 1")


@pytest.fixture(scope="module")
def stems():  # type: ignore[no-untyped-def]
    index = BM25KeywordIndex(Path("/nonexistent"))
    return lambda text: frozenset(index.stem_terms(text))


def test_a_negation_about_something_else_in_the_sentence(stems) -> None:  # type: ignore[no-untyped-def]
    key = set(stems("Are cryptographic keys rotated on a defined schedule?"))
    assert negation_elsewhere(
        "Keys are access-controlled, rotated on a defined schedule, and never embedded in "
        "code or logs.", stems, key)
    # The subject's own negation stays one.
    assert not negation_elsewhere("Not currently supported.", stems, key)
    assert not negation_elsewhere("Keys are not rotated, and access is logged.", stems, key)


def test_universal_claims() -> None:
    assert says_universal("Is MFA required for every user?",
                          "MFA is enforced for all staff.")
    assert not says_universal("Is MFA required for every user?", "Staff use MFA.")
    # A question about past outcomes is never answered by a practice.
    assert not says_universal("Were all findings remediated?",
                              "All findings are tracked to remediation.")
    assert not says_universal("Is access always removed within a day?",
                              "All access is removed within a day.")


def test_quoting_helpers() -> None:
    assert unique_sentences(["Checks are done where law permits.",
                             "Checks are done on staff where law permits. Also more."]) == [
        "Checks are done where law permits.", "Also more."]
    assert without_label("Authentication. Workforce identity is federated through Okta SSO.") \
        == "Workforce identity is federated through Okta SSO."
    # The label is the subject of a bare verdict, and a value is no label.
    assert without_label("Customer-managed keys (CMEK). Not currently supported today at all.") \
        .startswith("Customer-managed keys")
    assert without_label("Log retention: 18 months. After that, archives are deleted.") \
        .startswith("Log retention")
    assert strip_verdict("Yes — we do.") == "We do."
