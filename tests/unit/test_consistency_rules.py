"""The consistency check's rules, one at a time, with the FAKE hashing embedder (the golden
set measures the whole check with the real one)."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from ddq.models.fake import FakeHashingEmbedder
from ddq.trust.amounts import duration_hours, times_a_year
from ddq.trust.consistency import (
    Item,
    Kind,
    Passage,
    check_items,
    different_subjects,
    mentions,
    negated,
    neighbour_pairs,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("12 months", 8760),
        ("one year", 8760),
        ("48 hours", 48),
        ("two days", 48),
        ("15 minutes", 0.25),
        ("2 business days", 48),
        ("6h", 6),
        ("indefinitely", math.inf),
    ],
)
def test_durations_on_one_scale(text: str, hours: float) -> None:
    assert duration_hours(text) == pytest.approx(hours)


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("annually", 1),
        ("quarterly", 4),
        ("every six months", 2),
        ("every 90 days", 365 / 90),
        ("once a week", 52),
        ("weekly", 52),
        ("twice a year", 2),
        ("around the clock", math.inf),
    ],
)
def test_frequencies_in_times_a_year(text: str, rate: float) -> None:
    assert times_a_year(text) == pytest.approx(rate)


def test_a_frequency_is_not_also_read_as_a_duration() -> None:
    said = mentions(
        0, Item("Q1", "How often are passwords rotated?", "Passwords are rotated every 90 days.")
    )
    assert [(m.kind.value, m.value) for m in said] == [("frequency", "every 90 days")]


def test_questions_asked_the_other_way_round() -> None:
    assert negated("Are shared accounts prohibited?")
    assert negated("Can staff reach internal systems without the VPN?")
    assert not negated("Are shared accounts permitted?")
    assert not negated("Is MFA not disabled?")  # two negations


def test_different_subjects_by_identifier_and_scope() -> None:
    assert different_subjects("Are you certified to ISO 27001?", "Are you certified to ISO 27701?")
    assert different_subjects("What is the RTO?", "What is the RPO?")
    assert different_subjects(
        "Do employees get phishing tests?", "Do contractors get phishing tests?"
    )
    assert different_subjects(
        "Is data encrypted in transit over public networks?",
        "Is data encrypted in transit inside the private network?",
    )
    assert (
        different_subjects("Do you encrypt data at rest?", "Is data stored encrypted on disk?")
        is None
    )


def _item(ref: str, question: str, answer: str, *cites: Passage) -> Item:
    return Item(ref, question, answer, citations=cites)


def test_passage_rule_flags_yes_and_no_on_one_passage_only() -> None:
    shared = Passage("policies/endpoint.md", "§2", "All laptops are encrypted.")
    negative = Passage("policies/identity.md", "§3", "Shared accounts are prohibited.")
    items = [
        _item("A", "Is disk encryption on for laptops?", "Yes.", shared),
        _item("B", "If a laptop is stolen is its data safe?", "No.", shared),
        _item("C", "Does each user have a named account?", "Yes.", negative),
        _item("D", "Are team logins allowed?", "No.", negative),
        _item("E", "Is a VPN needed for remote work?", "Yes.", shared),
        _item("F", "Can staff work remotely without the VPN?", "No.", shared),
    ]
    report = check_items(items, FakeHashingEmbedder(dimension=64))
    passage = [f for f in report.findings if f.kind is Kind.PASSAGE]
    pairs = {f.pair for f in passage}
    assert frozenset(("A", "B")) in pairs and frozenset(("E", "B")) in pairs
    assert frozenset(("C", "D")) not in pairs  # a negative passage answers both ways
    assert frozenset(("E", "F")) not in pairs and frozenset(("A", "F")) not in pairs
    assert all(f.passages == (shared,) for f in passage)


def test_near_duplicates_with_the_same_text_and_opposite_verdicts() -> None:
    items = [
        _item("A", "Do you have cyber insurance?", "Yes."),
        _item("B", "Do you have cyber insurance?", "No."),
        Item("C", "Do you have cyber insurance?", "No evidence.", needs_input=True),
    ]
    report = check_items(items, FakeHashingEmbedder(dimension=64))
    assert [(f.kind, f.pair) for f in report.findings] == [(Kind.VERDICT, frozenset("AB"))]


def test_neighbour_pairs_are_bounded_by_k() -> None:
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(3000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    started = time.perf_counter()
    pairs = list(neighbour_pairs(vectors, k=5, minimum=-1.0, block=512))
    assert len(pairs) <= 3000 * 5
    assert len({(i, j) for i, j, _ in pairs}) == len(pairs)
    assert all(i < j for i, j, _ in pairs)
    assert time.perf_counter() - started < 30
