"""`ddq ingest` of last year's answered questionnaires, as a user runs it: each file's line
says how many answered questions became library entries, how many were skipped unanswered
and which sheets were passed over; a blank questionnaire is one line on stderr, exit 1, and
stores nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cli import assert_no_traceback, ddq

from support.vendor_forms import build_caiq, build_hecvat3

pytestmark = pytest.mark.e2e


def test_ingest_reports_the_entries_and_the_skipped_questions(tmp_path: Path) -> None:
    hecvat = build_hecvat3(tmp_path / "hecvat-full-2024.xlsx", "full", answered=True)
    caiq = build_caiq(tmp_path / "caiq-2024.xlsx", answered=True)
    home = tmp_path / "home"
    run = ddq("ingest", str(hecvat.path), str(caiq.path), home=home, cwd=tmp_path)
    assert run.code == 0, run.stderr
    assert_no_traceback(run)
    skipped = len(hecvat.answers) - len(hecvat.answered)
    hecvat_line = next(line for line in run.stdout.splitlines() if "hecvat-full-2024" in line)
    assert (f"{len(hecvat.answered)} answered questions as library entries "
            f"(Vendor Response {len(hecvat.answered)})") in hecvat_line
    assert f"{skipped} questions without an answer skipped" in hecvat_line
    assert "Analyst Report, Analyst Reference, Summary Report (reports built with formulas)" in (
        hecvat_line)
    caiq_line = next(line for line in run.stdout.splitlines() if "caiq-2024" in line)
    assert f"{len(caiq.answered)} answered questions as library entries" in caiq_line
    status = ddq("status", "--json", home=home, cwd=tmp_path).json()
    assert status["library_entries"] == len(hecvat.answered) + len(caiq.answered)


def test_a_blank_questionnaire_is_refused_and_stores_nothing(tmp_path: Path) -> None:
    blank = build_hecvat3(tmp_path / "hecvat-lite-blank.xlsx", "lite")
    home = tmp_path / "home"
    run = ddq("ingest", str(blank.path), home=home, cwd=tmp_path)
    assert run.code == 1
    assert_no_traceback(run)
    assert (f"hecvat-lite-blank.xlsx: a questionnaire with {len(blank.ids)} questions and "
            "none answered: nothing to add to the answer library") in " ".join(run.stderr.split())
    status = ddq("status", "--json", home=home, cwd=tmp_path).json()
    assert status["documents"] == 0 and status["library_entries"] == 0
