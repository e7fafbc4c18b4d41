"""IR metrics on small examples worked out by hand."""

from __future__ import annotations

import math

import pytest

from ddq.eval.metrics import mrr_at_k, ndcg_at_k, recall_at_k, summarise

pytestmark = pytest.mark.unit


def test_ndcg_graded_by_hand() -> None:
    ranked = ["a", "b", "c"]
    relevant = {"b": 1, "c": 2, "z": 0}
    dcg = 0 + (2**1 - 1) / math.log2(3) + (2**2 - 1) / math.log2(4)
    idcg = (2**2 - 1) / math.log2(2) + (2**1 - 1) / math.log2(3)
    assert ndcg_at_k(ranked, relevant, 10) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(ranked, relevant, 10) == pytest.approx(0.5868, abs=1e-4)
    assert ndcg_at_k(["c", "b"], relevant, 10) == pytest.approx(1.0)
    assert ndcg_at_k(ranked, relevant, 1) == 0.0
    assert ndcg_at_k(ranked, {"a": 0}, 10) == 0.0  # nothing relevant: 0, not a division error


def test_ndcg_cutoff_limits_the_ideal_too() -> None:
    # Three relevant documents, k=1, the top one relevant: perfect at 1.
    assert ndcg_at_k(["x", "y"], {"x": 1, "y": 1, "w": 1}, 1) == pytest.approx(1.0)


def test_recall_by_hand() -> None:
    relevant = {"a": 1, "b": 2, "c": 0}
    assert recall_at_k(["a", "x", "b"], relevant, 2) == 0.5
    assert recall_at_k(["a", "x", "b"], relevant, 3) == 1.0
    assert recall_at_k(["c"], relevant, 10) == 0.0  # grade 0 is not relevant
    assert recall_at_k(["a"], {}, 10) == 0.0


def test_mrr_by_hand() -> None:
    relevant = {"b": 1}
    assert mrr_at_k(["a", "b", "c"], relevant, 10) == 0.5
    assert mrr_at_k(["b"], relevant, 10) == 1.0
    assert mrr_at_k(["a", "c", "b"], relevant, 2) == 0.0
    assert mrr_at_k(["a", "z"], {"z": 0}, 10) == 0.0


def test_summarise_averages_over_judged_queries() -> None:
    qrels = {"q1": {"d1": 1}, "q2": {"d2": 1}}
    runs = {"q1": ["d1", "x"], "q2": ["x", "d2"], "q3": ["d9"]}
    result = summarise(runs, qrels)
    assert result["queries"] == 2
    assert result["mrr@10"] == pytest.approx((1 + 0.5) / 2)
    assert result["recall@10"] == pytest.approx(1.0)
    assert result["ndcg@10"] == pytest.approx((1 + 1 / math.log2(3)) / 2)
    assert summarise({}, qrels)["queries"] == 0
