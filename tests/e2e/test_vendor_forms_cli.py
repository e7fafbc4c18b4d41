"""`ddq questions` on the vendor-form reproductions, as a user runs it: the count per sheet
and why each other sheet was skipped, in text and in --json; a workbook of reports only is
one line on stderr."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from test_cli import assert_no_traceback, ddq

from support.vendor_forms import build_hecvat3, build_sig
from support.xlsx_package import save_workbook

pytestmark = pytest.mark.e2e


def test_questions_prints_the_count_per_sheet_and_why_sheets_were_skipped(tmp_path: Path
                                                                          ) -> None:
    form = build_hecvat3(tmp_path / "hecvat-lite.xlsx", "lite", answered=True)
    run = ddq("questions", str(form.path), home=tmp_path / "home", cwd=tmp_path)
    assert run.code == 0, run.stderr
    assert_no_traceback(run)
    lines = run.stdout.splitlines()
    summary = lines[lines.index("Vendor Response: 29 questions") - 2:]
    assert summary == [
        "Introduction: skipped, no header row naming a question column and no column that "
        "reads like questions",
        "Instructions: skipped, no header row naming a question column and no column that "
        "reads like questions",
        "Vendor Response: 29 questions",
        "Questions: skipped, hidden (name it with --sheet to read it)",
        "Analyst Report: skipped, its questions are formulas copying 'Vendor Response'",
        "Analyst Reference: skipped, its questions are formulas copying 'Vendor Response'",
        "Summary Report: skipped, its questions are formulas copying 'Analyst Report'",
        "Standards Crosswalk: skipped, hidden (name it with --sheet to read it)",
        "Answer Lists: skipped, hidden (name it with --sheet to read it)",
        "29 questions found in hecvat-lite.xlsx (xlsx)",
    ]
    assert "skipped" not in run.stderr  # said once, in the lines above

    data = ddq("questions", str(form.path), "--json", home=tmp_path / "home",
               cwd=tmp_path).json()
    assert data["count"] == 29
    assert data["sheets"][2] == {"name": "Vendor Response", "questions": 29, "skipped": None}
    assert {s["name"]: s["skipped"] for s in data["sheets"]}["Analyst Report"] == (
        "its questions are formulas copying 'Vendor Response'")
    assert [q["id"] for q in data["questions"]] == form.ids
    first = data["questions"][0]["targets"][0]
    assert first["current"] == "Harborline Analytics, Inc."


def test_questions_counts_each_domain_tab(tmp_path: Path) -> None:
    form = build_sig(tmp_path / "sig.xlsx")
    run = ddq("questions", str(form.path), home=tmp_path / "home", cwd=tmp_path)
    assert run.code == 0, run.stderr
    for name, ids in form.sheets.items():
        assert f"{name}: {len(ids)} questions" in run.stdout.splitlines()
    assert "Dashboard: skipped, no questions under the header" in run.stdout.splitlines()


def test_a_workbook_of_reports_only_is_one_line(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Summary"
    sheet.append(["ID", "Question", "Answer"])
    cached = {}
    for row in range(2, 6):
        sheet.append([f"Q-{row}", f"Is control {row} in place?", f"=IF(D{row}>0,\"Yes\",\"No\")"])
        cached[("Summary", f"C{row}")] = "Yes"
    path = save_workbook(workbook, tmp_path / "summary.xlsx", cached=cached)
    run = ddq("questions", str(path), home=tmp_path / "home", cwd=tmp_path)
    assert run.code != 0
    assert_no_traceback(run)
    assert run.error_lines == [
        f"error: {path}: no sheet holds the questionnaire itself ('Summary': its answer "
        "places are formulas)"]
