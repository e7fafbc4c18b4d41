"""Reciprocal rank fusion, checked against scores worked out by hand."""

from __future__ import annotations

import pytest

from ddq.retrieve.fusion import reciprocal_rank_fusion

pytestmark = pytest.mark.unit


def test_rrf_scores_and_order_by_hand() -> None:
    fused = reciprocal_rank_fusion([[1, 2, 3], [3, 1]], k=60)
    assert [item for item, _ in fused] == [1, 3, 2]
    scores = dict(fused)
    assert scores[1] == pytest.approx(1 / 61 + 1 / 62)
    assert scores[3] == pytest.approx(1 / 63 + 1 / 61)
    assert scores[2] == pytest.approx(1 / 62)


def test_rrf_weights_and_a_zero_weight_list() -> None:
    fused = dict(reciprocal_rank_fusion([[1, 2], [2, 1]], k=1, weights=[2.0, 1.0]))
    assert fused == pytest.approx({1: 2 / 2 + 1 / 3, 2: 2 / 3 + 1 / 2})
    ignored = reciprocal_rank_fusion([[1], [9, 1]], k=60, weights=[1.0, 0.0])
    assert ignored == [(1, pytest.approx(1 / 61))]  # 9 only appears in the muted list


def test_rrf_ties_break_by_id_and_empty_lists() -> None:
    assert [i for i, _ in reciprocal_rank_fusion([[7, 5], [5, 7]])] == [5, 7]
    assert reciprocal_rank_fusion([[], []]) == []
    assert [i for i, _ in reciprocal_rank_fusion([[], [4, 2]])] == [4, 2]


def test_rrf_rejects_mismatched_weights() -> None:
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([[1], [2]], weights=[1.0])
