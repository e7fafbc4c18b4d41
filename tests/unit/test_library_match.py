"""Reusing an approved answer for a reworded question, and never for a neighbouring one."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddq.answer.lexicon import Lexicon
from ddq.answer.library_match import library_reuse, same_question
from ddq.domain import ChunkKind, LibraryMatch, Location, StoredChunk
from ddq.index.keyword import BM25KeywordIndex

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def lexicon(tmp_path_factory: pytest.TempPathFactory) -> Lexicon:
    return Lexicon(BM25KeywordIndex(Path(tmp_path_factory.mktemp("kw"))).stem_terms)


def match(question: str, similarity: float, answer: str = "Yes.") -> LibraryMatch:
    chunk = StoredChunk(id=abs(hash(question)) % 10_000, document_id=1, workspace="default",
                        ordinal=0, kind=ChunkKind.LIBRARY, text=f"Q: {question}\nA: {answer}",
                        location=Location(), source_path="last-year.xlsx", title="last year",
                        question=question, answer=answer)
    return LibraryMatch(chunk, similarity)


@pytest.mark.parametrize(("asked", "known"), [
    ("Does your organization have a dedicated information security team?",
     "Do you have a dedicated information security staff or office?"),
    ("Do you commit to notifying the institution of a data breach within 72 hours?",
     "Will you notify customers of a security incident within 72 hours?"),
    ("Will institutional data be stored exclusively in U.S. data centers?",
     "Is customer data stored only in the United States?"),
    # The narrow concept in words on one side, by name on the other.
    ("Can cloud service customers manage their own data encryption keys?",
     "Do you support customer-managed encryption keys?"),
    ("Can customers set their own password complexity rules?",
     "Can customers configure the password policy for their own users?"),
    ("Is a security incident management plan established and maintained?",
     "Do you have a documented incident response plan?"),
])
def test_a_reworded_question_is_the_same_question(lexicon: Lexicon, asked: str,
                                                  known: str) -> None:
    assert same_question(lexicon, asked, known)


@pytest.mark.parametrize(("asked", "known"), [
    # Another number: another commitment.
    ("Will you notify customers of a breach within 24 hours?",
     "Will you notify customers of a breach within 72 hours?"),
    # The exception, not the rule.
    ("Is any customer data stored outside the United States?",
     "Is customer data stored only in the United States?"),
    ("Is customer data never shared with advertisers?",
     "Is customer data shared with advertisers?"),
    # A narrower concept than the one the library answers.
    ("Do you support customer-managed encryption keys (BYOK)?",
     "Are encryption keys managed in a key management service?"),
    # Another party.
    ("Do your contracts with suppliers require breach notification?",
     "Do your contracts with customers include breach notification?"),
    # A change to the value, not the value; and a yes/no question is not an open one.
    ("Can log retention be extended on request?", "Are logs retained for a year?"),
    ("Is log retention configurable?", "How long are logs retained?"),
    # Another plan that happens to be documented too.
    ("Do you have a documented business continuity plan?",
     "Do you have a documented incident response plan?"),
    ("Do you have a documented vendor management policy?",
     "Do you have a documented access control policy?"),
])
def test_a_neighbouring_question_is_not_the_same_question(lexicon: Lexicon, asked: str,
                                                          known: str) -> None:
    assert not same_question(lexicon, asked, known)


def test_a_close_match_is_reused_as_it_is(lexicon: Lexicon) -> None:
    reuse = library_reuse("Is customer data encrypted at rest?",
                          [match("Is customer data encrypted at rest?", 0.97),
                           match("Is customer data encrypted in transit?", 0.88)],
                          threshold=0.86, lexicon=lexicon)
    assert reuse is not None and not reuse.reworded
    assert reuse.match.chunk.question == "Is customer data encrypted at rest?"
    # The numbers the question asks must be in the library question.
    assert library_reuse("Are you SOC 1 certified?", [match("Are you SOC 2 certified?", 0.95)],
                         threshold=0.86, lexicon=lexicon) is None


def test_a_reworded_match_needs_a_clear_margin_and_a_floor(lexicon: Lexicon) -> None:
    asked = "Is every release scanned for security vulnerabilities before it ships?"
    before_release = "Are applications scanned for vulnerabilities before each release?"
    monthly = "Are systems scanned for vulnerabilities at least monthly?"
    reuse = library_reuse(asked, [match(before_release, 0.80), match(monthly, 0.62)],
                          threshold=0.86, lexicon=lexicon)
    assert reuse is not None and reuse.reworded
    assert reuse.match.chunk.question == before_release
    # Two library questions almost as close: which one is meant is for a person.
    assert library_reuse(asked, [match(before_release, 0.80), match(monthly, 0.75)],
                         threshold=0.86, lexicon=lexicon) is None
    # Too far to be the same question, whatever the margin.
    assert library_reuse(asked, [match(before_release, 0.55)], threshold=0.86,
                         lexicon=lexicon) is None
    # The same library question ingested twice is one question, not a close second.
    assert library_reuse(asked, [match(before_release, 0.80), match(before_release, 0.80)],
                         threshold=0.86, lexicon=lexicon) is not None
