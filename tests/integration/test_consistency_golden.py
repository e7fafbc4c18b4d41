"""The consistency check on the planted golden set, with the REAL embedder: precision >= 0.9
and recall >= 0.8 for each kind of contradiction (the figures in docs/evaluation.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddq.eval.consistency import load_golden, score
from ddq.models.base import Embedder
from ddq.trust.consistency import Kind, check_items

GOLDEN = Path(__file__).resolve().parents[2] / "examples" / "golden" / "consistency"


@pytest.mark.integration
def test_golden_set_precision_and_recall_per_kind(local_embedder: Embedder) -> None:
    golden = load_golden(GOLDEN / "questionnaire.yaml")
    assert len(golden.items) >= 100
    report = check_items(golden.items, local_embedder)
    scores = {s.kind: s for s in score(golden, report)}
    for kind in Kind:
        s = scores[kind]
        assert s.planted >= 10 and s.near_misses >= s.planted, kind
        assert s.precision >= 0.9, (kind, s.precision, s.wrong)
        assert s.recall >= 0.8, (kind, s.recall, s.missed)
    # Each finding names both questions; a passage finding names the shared passage.
    for finding in report.findings:
        assert finding.first.ref != finding.second.ref
        assert finding.first.question and finding.second.question
        if finding.kind is Kind.PASSAGE:
            assert finding.passages
            assert finding.passages[0] in finding.first.citations
            assert finding.passages[0] in finding.second.citations
