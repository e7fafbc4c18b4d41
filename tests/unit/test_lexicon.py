"""The domain vocabulary on its own: concepts found in any of their forms, in order, with
the keyword index's stemming; synonyms; parties; query expansion; acronyms spelled out."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddq.answer.lexicon import (
    ACRONYMS,
    CONCEPTS,
    SINGLE_FORMS,
    Lexicon,
    acronyms_in,
    only_acronyms,
)
from ddq.index.keyword import BM25KeywordIndex

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def lexicon(tmp_path_factory: pytest.TempPathFactory) -> Lexicon:
    index = BM25KeywordIndex(Path(tmp_path_factory.mktemp("bm25")) / "none")
    return Lexicon(index.stem_terms)


def concepts(lexicon: Lexicon, text: str) -> set[str]:
    return set(lexicon.concepts(lexicon.stems(text)))


@pytest.mark.parametrize(
    ("one", "other", "concept"),
    [
        ("Is MFA enforced?", "two-factor authentication is required",
         "multi-factor authentication"),
        ("Do you offer SSO?", "Customers sign in with SAML", "single sign-on"),
        ("Do you support BYOK?", "customer-managed encryption keys are planned",
         "customer-managed keys"),
        ("Which HYOK options exist?", "keys managed by the customer", "customer-managed keys"),
        ("What is your RTO?", "the recovery time objective is 4 hours", "recovery time objective"),
        ("What is the RPO?", "recovery point objective: one hour", "recovery point objective"),
        ("Is EDR deployed?", "anti-malware runs on every laptop",
         "endpoint detection and response"),
        ("Do you run a SIEM?", "events go to central logging",
         "security information and event management"),
        ("Do you sign a DPA?", "a data processing addendum is signed",
         "data processing agreement"),
        ("Who is your DPO?", "our data protection officer", "data protection officer"),
        ("Do you run SAST?", "static code analysis runs on each pull request",
         "static application security testing"),
        ("Is DAST performed?", "dynamic scanning of the web app",
         "dynamic application security testing"),
        ("Do you scan with SCA?", "dependency scanning runs nightly",
         "software composition analysis"),
        ("Can you provide an SBOM?", "a software bill of materials", "software bill of materials"),
        ("Are laptops in MDM?", "enrolled in device management", "mobile device management"),
        ("Do you have a VPAT?", "an accessibility conformance report (ACR)",
         "voluntary product accessibility template"),
        ("When was the last pentest?", "the penetration test of 2025", "penetration test"),
        ("Is there a DR plan?", "disaster recovery is tested yearly", "disaster recovery"),
        ("Do you have a BCP?", "our business continuity plan", "business continuity"),
        ("Are uploaded files kept encrypted on disk?", "documents are protected at rest",
         "encryption at rest"),
        ("Which protocol protects encrypted connections?", "TLS 1.2 or newer is required",
         "encryption in transit"),
        # A subprocessor is a third party that processes data for the company.
        ("Which third parties process our data?", "the subprocessors that handle it are",
         "third party"),
        ("Do staff agree to the rules for using company laptops?",
         "everyone accepts the acceptable use policy", "acceptable use policy"),
        ("When did the last access recertification end?",
         "managers recertify each user's access", "access review"),
    ],
)
def test_a_concept_is_found_in_any_of_its_forms(lexicon: Lexicon, one: str, other: str,
                                                concept: str) -> None:
    assert concept in concepts(lexicon, one)
    assert concept in concepts(lexicon, other)


def test_a_narrow_concept_is_not_found_in_its_words_scattered() -> None:
    index = BM25KeywordIndex(Path("/nonexistent"))
    lexicon = Lexicon(index.stem_terms)
    scattered = "Customer data is encrypted; keys are managed in the cloud KMS."
    assert "customer-managed keys" not in concepts(lexicon, scattered)
    assert "key management service" in concepts(lexicon, scattered)
    assert lexicon.is_strict("customer-managed keys")
    assert not lexicon.is_strict("key management service")


def test_synonyms_are_matched_by_stem_both_ways(lexicon: Lexicon) -> None:
    [enforced] = lexicon.stems("enforced")
    [mandatory] = lexicon.stems("mandatory")
    assert mandatory in lexicon.synonyms(enforced)
    assert enforced in lexicon.synonyms(mandatory)
    [revisited] = lexicon.stems("revisited")
    assert lexicon.stems("reviewed")[0] in lexicon.synonyms(revisited)
    # A word with no synonyms is its own.
    [word] = lexicon.stems("platypus")
    assert lexicon.synonyms(word) == {word}


@pytest.mark.parametrize(
    ("question_word", "evidence_word"),
    [
        ("entitlements", "access"),
        ("leadership", "executive"),
        ("finished", "completed"),
        ("departing", "leaves"),
        ("elevated", "privileged"),
        ("files", "documents"),
        ("acknowledge", "accepts"),
        ("write", "documented"),
        ("recertification", "recertify"),
    ],
)
def test_the_words_a_reworded_question_uses_are_synonyms(
        lexicon: Lexicon, question_word: str, evidence_word: str) -> None:
    """The words of a reworded question against those a policy says the same thing with
    ("user entitlements" are "every user's access", "leadership" the executive committee)."""
    [asked] = lexicon.stems(question_word)
    [said] = lexicon.stems(evidence_word)
    assert said in lexicon.synonyms(asked)
    assert asked in lexicon.synonyms(said)


def test_a_period_said_in_months_is_a_year(lexicon: Lexicon) -> None:
    assert "annually" in concepts(lexicon, "reviewed at least once a year")
    assert "annually" in concepts(lexicon, "reviewed every twelve months")
    assert "annually" not in concepts(lexicon, "reviewed every six months")


@pytest.mark.parametrize(
    ("text", "parties"),
    [
        ("breach clauses in contracts with your suppliers", {"suppliers"}),
        ("we notify affected customers within 72 hours", {"customers"}),
        ("Subprocessors are assessed before onboarding", {"suppliers"}),
        ("All staff complete training", {"workforce"}),
        ("Data is encrypted at rest", set()),
    ],
)
def test_parties(lexicon: Lexicon, text: str, parties: set[str]) -> None:
    assert lexicon.parties(text) == parties


def test_modifiers_ask_about_a_change_of_value(lexicon: Lexicon) -> None:
    assert lexicon.modifiers("Can log retention be extended on request?")
    assert not lexicon.modifiers("How long are logs retained?")


def test_the_keyword_query_gains_the_name_and_acronyms_only(lexicon: Lexicon) -> None:
    query = lexicon.expand_query("Is MFA enforced for admins?")
    assert query.startswith("Is MFA enforced for admins? ")
    assert "multi-factor authentication" in query and "2fa" in query
    # Not every synonym: those would drown the question's own words.
    assert "second factor" not in query
    assert lexicon.expand_query("Do you like platypuses?") == "Do you like platypuses?"


def test_acronyms_and_names_are_spelled_out_once_for_the_embedder(lexicon: Lexicon) -> None:
    assert lexicon.spelled_out("Targets: RTO 6 h, RPO 12 h; RTO is met.") == (
        "Targets: RTO (recovery time objective) 6 h, RPO (recovery point objective) 12 h; "
        "RTO is met.")
    assert lexicon.spelled_out("Staff sign in through Okta.") == (
        "Staff sign in through Okta (identity provider).")
    # "TLS" abbreviates transport layer security first.
    assert "TLS (transport layer security)" in lexicon.spelled_out("We use TLS 1.2.")
    # Already spelled out: unchanged.
    text = "Multi-factor authentication (MFA) is enforced."
    assert lexicon.spelled_out(text) == text


def test_acronyms_only(lexicon: Lexicon) -> None:
    assert acronyms_in("Do you support SSO and SCIM?") == ["SSO", "SCIM"]
    assert only_acronyms("XQZR?") == ["XQZR"]
    assert only_acronyms("Do you support SCIM?") == ["SCIM"]
    assert only_acronyms("Is SCIM provisioning available?") == []
    assert lexicon.knows("SCIM") and lexicon.knows("mfa")
    assert not lexicon.knows("XQZR")


def test_the_data_is_well_formed() -> None:
    names = [c.name for c in CONCEPTS]
    assert len(names) == len(set(names)), "each concept is named once"
    assert all(len(c.forms) >= 2 for c in CONCEPTS), "a concept has another form"
    assert {"mfa", "sso", "cmk", "byok", "hyok", "rto", "rpo", "edr", "siem", "dpa", "dpo",
            "sast", "dast", "sca", "sbom", "mdm", "vpat", "acr", "dr", "bcp"} <= ACRONYMS
    assert "pentest" in SINGLE_FORMS
