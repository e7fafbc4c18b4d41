"""Text helpers the answerer relies on: key terms, yes/no questions, negative cues."""

from __future__ import annotations

import re

import pytest

from ddq.answer.text import evidence_units, has_negative_cue, is_yes_no_question, key_words

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "Does your organization encrypt customer data at rest?",
            ["encrypt", "customer", "data", "rest"],
        ),
        (
            "Please describe your multi-factor authentication process.",
            ["multi", "factor", "authentication"],
        ),
        ("Is data encrypted? Is DATA encrypted at rest?", ["data", "encrypted", "rest"]),
        ("Do you have a SOC 2 report?", ["soc", "report"]),
        ("What is it?", []),
        # "in place" asks whether a thing exists; "place" alone is a word like any other.
        ("Are removable media controls in place?", ["removable", "media", "controls"]),
        ("Is there a place for visitors to sign in?", ["place", "visitors", "sign"]),
        # "re-" names nothing; the word after it does ("re-assessed" is "assessed").
        ("How often is each risk re-assessed?", ["often", "risk", "assessed"]),
        ("Are remote sessions recorded?", ["remote", "sessions", "recorded"]),
        # Phrases that say nothing about the subject.
        ("Who can customers contact about privacy matters?",
         ["customers", "contact", "privacy"]),
        ("List the firms that process data on your behalf.", ["firms", "data"]),
        ("How long do you take to write up an incident?",
         ["long", "take", "write", "incident"]),
    ],
)
def test_key_words(question: str, expected: list[str]) -> None:
    assert key_words(question) == expected


def test_no_key_word_is_a_word_the_index_drops() -> None:
    """Evidence is stemmed without the keyword index's stop words, so a key term that is one
    of them ("Is security built into the SDLC?") could never be covered."""
    from bm25s.stopwords import STOPWORDS_EN

    assert key_words(" ".join(STOPWORDS_EN)) == []
    assert key_words("Is security built into the SDLC?") == ["security", "built", "sdlc"]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Do you encrypt backups?", True),
        ("  Is MFA enforced?", True),
        ("Have you had a breach in the last year?", True),
        ("Can customers export their data?", True),
        ("What encryption do you use?", False),
        ("Describe your backup policy.", False),
        ("Dogs are allowed?", False),  # 'Do' must be a whole word
    ],
)
def test_is_yes_no_question(question: str, expected: bool) -> None:
    assert is_yes_no_question(question) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Customer-managed keys are not supported.", True),
        ("We never share data with third parties.", True),
        ("No. We do not offer on-premises hosting.", True),
        ("SCIM provisioning is on the roadmap for 2025.", True),
        ("Data residency in Canada is planned.", True),
        ("We don't store card numbers.", True),
        ("All data is encrypted with AES-256.", False),
        ("Notable customers include banks.", False),  # 'not' inside a word is no cue
        ("Annotations are kept.", False),
    ],
)
def test_negative_cues(text: str, expected: bool) -> None:
    assert has_negative_cue(text) is expected


def test_evidence_units_are_lines_and_long_lines_split_into_sentences() -> None:
    long_line = " ".join(f"Sentence {i} has exactly seven words here." for i in range(10))
    units = evidence_units("First line.\n\n  Second line  \n" + long_line)
    assert units[:2] == ["First line.", "Second line"]
    assert units[2:] == [f"Sentence {i} has exactly seven words here." for i in range(10)]


@pytest.mark.parametrize(("question", "universal"), [
    ("Were all findings from your most recent penetration test remediated?", True),
    ("Is access always removed within one business day?", True),
    ("Is every laptop encrypted?", True),
    ("Is customer data encrypted at rest?", False),
    ("Do you allow overall admin access?", False),
])
def test_universal_questions(question: str, universal: bool) -> None:
    from ddq.answer.text import asks_universal

    assert asks_universal(question) is universal


def test_only_a_label_hands_the_verdict_to_the_next_sentence() -> None:
    from ddq.answer.text import stance_sentences

    def stems(text: str) -> set[str]:
        return set(text.lower().replace(".", "").replace("(", "").replace(")", "").split())

    label = "Customer-managed keys (CMEK). Not currently supported. Other text."
    assert stance_sentences(label, stems, {"cmek", "keys"}) == [
        "Customer-managed keys (CMEK).", "Not currently supported."]
    full = ("Keys are managed in a key management service with yearly rotation. "
            "Customer keys are not supported.")
    assert stance_sentences(full, stems, {"keys", "managed", "management", "service"}) == [
        "Keys are managed in a key management service with yearly rotation."]


def test_the_verdict_is_read_from_the_clause_that_names_the_subject() -> None:
    from ddq.answer.text import has_negative_cue, stance_sentences

    def stems(text: str) -> set[str]:
        return set(re.findall(r"[a-z]+", text.lower()))

    # The "No" is about source code; the clause about the vault carries no verdict.
    line = "No secrets in source code; secrets are managed in a dedicated vault."
    [part] = stance_sentences(line, stems, {"secrets", "managed", "dedicated", "vault"})
    assert part == "secrets are managed in a dedicated vault."
    assert not has_negative_cue(part)
    # A table row's label cell hands the verdict to the cell after it.
    row = "Key management | CMEK | Not currently supported | Reviewed 2026"
    assert stance_sentences(row, stems, {"cmek"}) == ["CMEK | Not currently supported"]
    # One clause: the negation is the subject's.
    whole = "Cardholder data is processed by Stripe and is not stored by us."
    assert stance_sentences(whole, stems, {"cardholder", "data", "stored"}) == [whole]


@pytest.mark.parametrize(("question", "prohibition"), [
    ("Are shared/generic accounts prohibited for administrative access?", True),
    ("Is the use of personal email for company business forbidden?", True),
    ("Are USB storage devices not permitted on company laptops?", True),
    ("Are personal devices allowed to access production?", False),
    ("Do you support customer-managed encryption keys?", False),
])
def test_questions_that_ask_about_a_prohibition(question: str, prohibition: bool) -> None:
    from ddq.answer.text import asks_prohibition

    assert asks_prohibition(question) is prohibition


@pytest.mark.parametrize(("question", "alternatives"), [
    ("Does the firm hold a SOC 2 Type II report or an ISO 27001 certification?", True),
    ("Do you support SAML or OIDC?", True),
    ("Do you support customer-managed encryption keys?", False),
    ("Is the data stored in Oregon?", False),
])
def test_questions_with_alternatives(question: str, alternatives: bool) -> None:
    from ddq.answer.text import asks_alternatives

    assert asks_alternatives(question) is alternatives


def test_answer_lines_drop_record_field_labels() -> None:
    from ddq.answer.text import answer_line

    assert answer_line("implementation_statement: Northwind is not FedRAMP authorized. ") == (
        "Northwind is not FedRAMP authorized.")
    assert answer_line("notes: Q3 2025 review completed late") == "Q3 2025 review completed late"
    assert answer_line("last_reviewed: 2026-01-15") == "last_reviewed: 2026-01-15"
    assert answer_line("Encryption at rest: AES-256.") == "Encryption at rest: AES-256."
    assert answer_line("see: ") == "see:"
