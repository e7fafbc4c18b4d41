"""Chunking: every chunk fits the token budget, sentences stay whole, neighbours overlap,
an answer-library row is exactly one chunk, and the heading path travels with each chunk."""

from __future__ import annotations

import itertools
import re

import pytest

from ddq.domain import Block, ChunkKind, LoadedDocument, Location
from ddq.ingest.chunking import chunk_document, split_sentences
from ddq.models.base import approximate_token_count

pytestmark = pytest.mark.unit


def count(texts):
    return [approximate_token_count(t) for t in texts]


def heading(text: str, level: int) -> Block:
    return Block(text, Location(), is_heading=True, heading_level=level)


def para(text: str) -> Block:
    return Block(text, Location())


def sentences(n: int, topic: str = "topic") -> list[str]:
    return [f"Sentence {i} explains how the {topic} control number {i} works." for i in range(n)]


def chunk(blocks: list[Block], max_tokens: int = 64, overlap: int = 20):
    document = LoadedDocument("doc", blocks, "text")
    return chunk_document(
        document, max_tokens=max_tokens, overlap_tokens=overlap, count_tokens=count
    )


def test_no_chunk_exceeds_the_budget() -> None:
    blocks = [
        heading("Security Policy", 1),
        heading("Encryption and Key Management", 2),
        para(" ".join(sentences(40))),
        para("Short paragraph."),
        heading("Access", 2),
        *(para(s) for s in sentences(25, "access")),
    ]
    for max_tokens in (32, 64, 230):
        chunks = chunk(blocks, max_tokens=max_tokens, overlap=max_tokens // 4)
        assert len(chunks) > 1
        for c in chunks:
            # What the model really sees is the heading path plus the text.
            assert count([c.embedding_text])[0] <= max_tokens, c
            assert c.token_count <= max_tokens


def test_an_unpunctuated_run_with_dense_words_still_fits_the_budget() -> None:
    run_on = " ".join(["plain"] * 100 + ["TLS_ECDHE_RSA-AES-256"] * 40)
    chunks = chunk([para(run_on)], max_tokens=64, overlap=0)
    assert max(count([c.embedding_text])[0] for c in chunks) <= 64


def test_sentences_are_never_cut() -> None:
    original = sentences(30)
    chunks = chunk([heading("Policy", 1), para(" ".join(original))], max_tokens=64)
    assert len(chunks) >= 4
    for c in chunks:
        pieces = split_sentences(c.text)
        assert pieces, c.text
        for piece in pieces:
            assert piece in original, f"cut sentence: {piece!r}"
    # Nothing is lost: every sentence lands in some chunk.
    covered = {p for c in chunks for p in split_sentences(c.text)}
    assert covered == set(original)


def test_consecutive_chunks_of_a_section_overlap() -> None:
    chunks = chunk([heading("Policy", 1), para(" ".join(sentences(30)))], max_tokens=64, overlap=20)
    assert len(chunks) >= 3
    for before, after in itertools.pairwise(chunks):
        last_sentence = split_sentences(before.text)[-1]
        assert after.text.startswith(last_sentence), (before.text, after.text)


def test_no_overlap_across_sections() -> None:
    chunks = chunk(
        [
            heading("A", 1),
            para(" ".join(sentences(6, "alpha"))),
            heading("B", 1),
            para(" ".join(sentences(6, "beta"))),
        ],
        max_tokens=230,
        overlap=40,
    )
    assert [c.location.heading_path for c in chunks] == [("A",), ("B",)]
    assert "alpha" not in chunks[1].text


def test_overlap_zero_means_disjoint_chunks() -> None:
    original = sentences(30)
    chunks = chunk([para(" ".join(original))], max_tokens=64, overlap=0)
    joined = [p for c in chunks for p in split_sentences(c.text)]
    assert joined == original


def test_heading_path_is_carried_to_every_chunk() -> None:
    chunks = chunk(
        [
            heading("Handbook", 1),
            heading("Security", 2),
            heading("Encryption", 3),
            para(" ".join(sentences(20))),
            heading("Access", 2),
            para("MFA is required."),
            heading("Appendix", 1),
            para("Glossary."),
        ],
        max_tokens=64,
    )
    paths = [c.location.heading_path for c in chunks]
    assert paths[0] == ("Handbook", "Security", "Encryption")
    assert len(set(paths[:-2])) == 1 and len(paths) > 3
    assert paths[-2:] == [("Handbook", "Access"), ("Appendix",)]
    for c in chunks:
        assert c.embedding_text.startswith(" > ".join(c.location.heading_path) + "\n")
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))


def test_each_library_row_is_exactly_one_chunk() -> None:
    long_answer = " ".join(sentences(60))  # far over the budget: still one chunk
    rows = [
        Block(
            f"Q: Question {i}?\nA: {answer}",
            Location(sheet="Lib", row=i + 2),
            library_question=f"Question {i}?",
            library_answer=answer,
            library_owner="CISO",
        )
        for i, answer in enumerate(["Yes.", long_answer, "No."])
    ]
    chunks = chunk([*rows, para("Some prose as well.")], max_tokens=64)
    library = [c for c in chunks if c.kind is ChunkKind.LIBRARY]
    assert len(library) == 3
    assert [(c.question, c.answer, c.location.row, c.owner) for c in library] == [
        ("Question 0?", "Yes.", 2, "CISO"),
        ("Question 1?", long_answer, 3, "CISO"),
        ("Question 2?", "No.", 4, "CISO"),
    ]
    assert library[1].embedding_text == f"Question 1?\n{long_answer}"
    assert [c.kind for c in chunks].count(ChunkKind.PASSAGE) == 1


def test_pages_are_separate_sections() -> None:
    chunks = chunk(
        [Block("Page one text.", Location(page=1)), Block("Page two text.", Location(page=2))],
        max_tokens=230,
    )
    assert [(c.location.page, c.text) for c in chunks] == [
        (1, "Page one text."),
        (2, "Page two text."),
    ]


def test_headings_alone_make_no_chunks() -> None:
    assert chunk([heading("Only", 1), heading("Headings", 2)]) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "We use MFA, e.g. TOTP and WebAuthn. Logs are kept.",
            ["We use MFA, e.g. TOTP and WebAuthn.", "Logs are kept."],
        ),
        (
            "Controls, i.e. the SOC 2 ones, apply. See Fig. 3 for details.",
            ["Controls, i.e. the SOC 2 ones, apply.", "See Fig. 3 for details."],
        ),
        (
            "Dr. Smith approves. Acme Inc. is the vendor. Version 2.5 is live.",
            ["Dr. Smith approves.", "Acme Inc. is the vendor.", "Version 2.5 is live."],
        ),
        ("It costs $3.50 per user! Really? Yes.", ["It costs $3.50 per user!", "Really?", "Yes."]),
        ('He said "Stop." Then left.', ['He said "Stop."', "Then left."]),
        ("Approved by J. Doe in 2024.", ["Approved by J. Doe in 2024."]),
        ("lower case after a dot. stays together", ["lower case after a dot. stays together"]),
        ("", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_split_sentences_keeps_all_text() -> None:
    text = "One. Two e.g. three! Four? Five (approx. 5). Six."
    assert re.sub(r"\s+", "", "".join(split_sentences(text))) == re.sub(r"\s+", "", text)
