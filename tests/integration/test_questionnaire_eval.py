"""`ddq eval questionnaire` on the Northwind data, with the REAL model: the traps that matter
most hold (honest negatives for T1 and T2, abstention for T7), and the scores are computed
from what the job stored."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ddq.config import Settings
from ddq.eval.questionnaire import evaluate_questionnaire, format_markdown, load_cases
from ddq.kb import KnowledgeBase
from ddq.models.base import Embedder

pytestmark = pytest.mark.integration

NORTHWIND = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "northwind"


@pytest.fixture(scope="module")
def northwind_kb(tmp_path_factory: pytest.TempPathFactory, local_embedder: Embedder
                 ) -> Iterator[KnowledgeBase]:
    if not NORTHWIND.is_dir():
        pytest.fail(f"{NORTHWIND} is missing: the shared data folder must sit beside the project")
    home = tmp_path_factory.mktemp("northwind")
    # Northwind's SOC 2 report covers 2025 and counts as current for 12 months after it: the
    # figures are judged on a date inside that window, so they hold on whatever day they run.
    with pytest.MonkeyPatch.context() as pin:
        pin.setenv("DDQ_TODAY", "2026-12-08")
        kb = KnowledgeBase(Settings(home=home), embedder=local_embedder)
        report = kb.ingest_paths([NORTHWIND / "policies", NORTHWIND / "evidence",
                                  NORTHWIND / "company_profile.md",
                                  NORTHWIND / "control_catalog.csv"])
        assert not [r for r in report.results if r.outcome.value == "failed"]
        try:
            yield kb
        finally:
            kb.close()


def test_review_golden_set_traps(northwind_kb: KnowledgeBase) -> None:
    result = evaluate_questionnaire(northwind_kb, NORTHWIND / "eval_golden_set_review.yaml",
                                    batch_size=8)
    by_trap = {r.case.trap: r for r in result.results if r.case.trap}
    for trap in ("T1", "T2"):  # CMEK, public bug bounty: the honest "No", never "Yes"
        assert by_trap[trap].draft.stance != "yes", by_trap[trap].draft.text
        assert by_trap[trap].outcome == "negative", by_trap[trap].draft.text
        assert by_trap[trap].draft.citations
    assert by_trap["T7"].outcome == "needs_input"  # HIPAA BAA: no evidence, ask a person
    assert by_trap["T7"].draft.citations == []
    assert not any(r.false_yes for r in result.results)
    # Every case was answered once by the job and graded from the stored draft.
    assert len(result.results) == len(load_cases(NORTHWIND / "eval_golden_set_review.yaml"))
    for score in (result.exact_accuracy, result.grouped_accuracy, result.abstention_precision,
                  result.abstention_recall, result.citation_hit_rate):
        assert score is not None and 0.0 <= score <= 1.0
    assert result.grouped_accuracy is not None and result.grouped_accuracy >= 0.8
    assert "abstention precision" in format_markdown(result)


def test_golden_set_has_no_false_yes(northwind_kb: KnowledgeBase) -> None:
    result = evaluate_questionnaire(northwind_kb, NORTHWIND / "eval_golden_set.yaml",
                                    batch_size=8)
    assert not any(r.false_yes for r in result.results)
    assert result.citation_hit_rate is not None and result.citation_hit_rate >= 0.5
