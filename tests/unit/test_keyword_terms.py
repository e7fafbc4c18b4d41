"""The answerer's stemmed terms must be the index's: a term the question and an evidence
line share is only found when both sides are stemmed the way BM25 indexed the corpus."""

from __future__ import annotations

from pathlib import Path

import bm25s
import pytest

from ddq.answer.evidence import Memo
from ddq.index.keyword import BM25KeywordIndex

pytestmark = pytest.mark.unit

TEXTS = [
    "",
    "a",
    "Is customer data encrypted at rest?",
    "MFA? Multi-factor AUTHENTICATION, annually: every year!",
    "The vendor's SOC 2 Type II report (2025) covers ISO/IEC 27001:2022 controls.",
    "ÉCOLE naïve café's 3rd x9 — résumé; 北京 data",
    "Don't we?  It isn't, and they're not: no NOT none.",
    "tab\tseparated\nlines\r\nand  double  spaces",
    "e-mail, re-use; co-operate; 10.5% of 1,000 users",
]


def bm25s_terms(index: BM25KeywordIndex, text: str) -> list[str]:
    """The terms as bm25s's own tokenizer makes them for the index."""
    tokens = bm25s.tokenize([text], stopwords="en", stemmer=index._stem, show_progress=False)
    inverse = {number: term for term, number in tokens.vocab.items()}
    return [inverse[i] for i in tokens.ids[0]]


@pytest.mark.parametrize("text", TEXTS)
def test_stem_terms_are_the_terms_bm25s_indexes(tmp_path: Path, text: str) -> None:
    index = BM25KeywordIndex(tmp_path / "keyword")
    assert index.stem_terms(text) == bm25s_terms(index, text)


def test_stem_terms_keep_order_and_repeats(tmp_path: Path) -> None:
    index = BM25KeywordIndex(tmp_path / "keyword")
    assert index.stem_terms("Encrypted backups are encrypted daily") == [
        "encrypt", "backup", "encrypt", "daili"]


def test_the_answerers_memo_stays_within_its_bound() -> None:
    memo: Memo[int] = Memo(100)
    for n in range(1_000):
        assert memo.put(f"text {n}", n) == n
    assert len(memo._items) <= 100
    assert memo.get("text 999") == 999  # the newest are kept
    assert memo.get("text 0") is None  # the oldest went first
