"""The review report: every question listed, HTML escaped, CSV safe to open in Excel."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from ddq.domain import AnswerStatus, Citation
from ddq.forms import Target, TargetRole
from ddq.jobs.report import CSV_COLUMNS, render_csv, render_html, rows_of
from ddq.store.questionnaires import DraftRecord, QuestionnaireInfo, QuestionRecord

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 26, tzinfo=UTC)
INFO = QuestionnaireInfo(1, "w", "vendor <b>.xlsx", "/tmp/v.xlsx", "h", "xlsx", {}, {}, 3, NOW,
                         None)


def question(i: int, text: str) -> QuestionRecord:
    return QuestionRecord(i, i, f"Q{i}", f"Q{i}", text, ("Security",), f"S!B{i}",
                          (Target(TargetRole.ANSWER, f"S!C{i}"),))


def draft(qid: int, status: AnswerStatus, text: str, citations: list[Citation]) -> DraftRecord:
    return DraftRecord(qid, qid, 1, status, text, None, 0.42, "reason <why>", citations, {},
                       "extractive", NOW)


@pytest.fixture
def rows():  # type: ignore[no-untyped-def]
    questions = [question(1, "Do you <script>alert(1)</script>?"), question(2, "RTO?"),
                 question(3, "Not yet?")]
    drafts = {
        1: draft(1, AnswerStatus.ANSWERED, "=HYPERLINK(\"http://x\")",
                 [Citation(9, "policy.md", "§1 <x>", "quote & more")]),
        2: draft(2, AnswerStatus.NEEDS_INPUT, "Needs input", []),
    }
    return rows_of(questions, drafts)


def test_csv_lists_every_question_and_neutralises_formulas(rows) -> None:  # type: ignore[no-untyped-def]
    text = render_csv(rows)
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert tuple(table[0]) == CSV_COLUMNS
    assert len(table) == 4
    first = dict(zip(CSV_COLUMNS, table[1], strict=True))
    assert first["answer"] == "'=HYPERLINK(\"http://x\")"
    assert first["citations"] == "policy.md (§1 <x>)"
    assert first["status"] == "Answered from documents"
    assert dict(zip(CSV_COLUMNS, table[2], strict=True))["status"] == "Needs input"
    assert dict(zip(CSV_COLUMNS, table[3], strict=True))["status"] == "Not answered yet"


def test_html_escapes_everything(rows) -> None:  # type: ignore[no-untyped-def]
    page = render_html(INFO, rows)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "vendor &lt;b&gt;.xlsx" in page
    assert "quote &amp; more" in page
    assert "3 questions" in page and "Needs input: 1" in page and "Not answered yet: 1" in page


def test_reports_are_written_with_the_usual_permissions(rows, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import stat

    from ddq.jobs.report import write_reports

    html_path, csv_path = write_reports(INFO, rows, tmp_path / "out" / "vendor-answered")
    assert html_path.name == "vendor-answered.report.html"
    assert csv_path.name == "vendor-answered.report.csv"
    mask = os.umask(0)
    os.umask(mask)
    for path in (html_path, csv_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]
