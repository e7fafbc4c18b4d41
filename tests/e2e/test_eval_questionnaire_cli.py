"""`ddq eval questionnaire` as a user runs it on the project's own golden set (Quillon),
with two golden sets at once: each run's per-type and calibration tables, and the two
together, add up to the cases that were answered (FAKE embedder: the figures are not the
answerer's quality, only the report's arithmetic on a real job)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cli import assert_no_traceback, ddq

pytestmark = pytest.mark.e2e

QUILLON = Path(__file__).resolve().parents[2] / "examples" / "golden" / "quillon"


def test_two_golden_sets_and_their_tables_together(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ingest = ddq("ingest", str(QUILLON / "knowledge"), home=home, cwd=tmp_path)
    assert ingest.code == 0, ingest.stderr
    small = tmp_path / "small.yaml"
    small.write_text("""
cases:
  - {id: S1, question: "How long do you keep security logs?", expected_outcome: qualified,
     expected_answer: ["13 months"]}
  - {id: S2, question: "Will you sign a HIPAA business associate agreement?",
     expected_outcome: needs_input}
""", encoding="utf-8")
    report = tmp_path / "report.md"
    run = ddq("eval", "questionnaire", str(QUILLON / "golden.yaml"), str(small), "--json",
              "--report", str(report), home=home, cwd=tmp_path)
    assert_no_traceback(run)
    assert run.code in (0, 1), run.stderr  # 1: a safety gate failed, reported, not a crash
    data = run.json()
    quillon, mine = data["sets"]
    assert (quillon["cases"], mine["cases"]) == (125, 2)
    # The small set declares no type: the classifier reads "How long…" as a duration.
    assert mine["by_case"][0]["type"] == "duration"
    for result in (quillon, mine):
        total = result["by_type"][-1]
        answered = sum(c["got"] != "needs_input" for c in result["by_case"])
        assert total["type"] == "all" and total["cases"] == result["cases"]
        assert total["answered"] == answered
        assert total["correct"] == sum(c["correct"] for c in result["by_case"])
        assert total["answered"] + total["abstained"] == total["cases"]
        assert sum(b["answers"] for b in result["calibration"]["bands"]) == answered
    together = data["by_type"][-1]
    assert together["cases"] == 127
    assert together["answered"] == (quillon["by_type"][-1]["answered"]
                                    + mine["by_type"][-1]["answered"])
    assert {r["type"] for r in quillon["by_type"]} == {
        "verdict", "frequency", "duration", "date", "version", "named", "list", "description",
        "all"}
    text = report.read_text(encoding="utf-8")
    assert text.count("By question type") == 2
    assert "All 2 golden sets together (`golden.yaml`, `small.yaml`; 127 cases)" in text
