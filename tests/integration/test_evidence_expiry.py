"""Evidence that expires: a SOC 2 report whose period ended more than its validity ago is
never the only support of a Yes (asked directly, in a questionnaire job); a question about
the report itself gets its dates stated; ``ddq stale`` lists expired and soon-expiring
evidence and names a validity it cannot read; a date set by hand wins over the document's
words for that version of it. Today is pinned (``DDQ_TODAY`` / ``--today``) so the test
means the same on any day. Real SQLite / PostgreSQL, Milvus Lite, BM25; fake embedder."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ddq.cli import app
from ddq.config import Settings
from ddq.domain import AnswerStatus
from ddq.errors import DDQError
from ddq.jobs.job import QuestionnaireJob
from ddq.kb import KnowledgeBase
from ddq.trust.expiry import validities
from ddq.trust.settings import TrustSettings

pytestmark = pytest.mark.integration

SOC2 = """# Acme SOC 2 Type II Report

Period: January 1, 2025 to December 31, 2025

## Opinion

In our opinion, Acme's controls operated effectively throughout the period.

## Controls tested

Customer data is encrypted at rest with AES-256. Multi-factor authentication is enforced for
every employee.
"""
ACCESS = """# Access Control Policy

## Multi-factor authentication

Multi-factor authentication is enforced for every employee on every production system.
"""
VENDOR = """---
valid_until: next spring
---

# Vendor Review Procedure

Every new supplier is reviewed by the security team before a contract is signed.
"""
TRUST_CENTER = """# Trust Center

Acme has a SOC 2 Type II report, shared with customers under a non-disclosure agreement.
"""
ENCRYPTED = "Is customer data encrypted at rest?"
HAS_REPORT = "Do you have a SOC 2 Type II report?"
MFA = "Is multi-factor authentication enforced for every employee?"
SUPPLIERS = "Are new suppliers reviewed by the security team?"
#: The report's period ended 2025-12-31; current for 12 months after: until 2026-12-31.
BEFORE, SOON, AFTER = "2026-06-01", "2026-12-15", "2027-02-01"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "acme-soc2-report.md").write_text(SOC2, encoding="utf-8")
    (knowledge / "access.md").write_text(ACCESS, encoding="utf-8")
    (knowledge / "vendor-review.md").write_text(VENDOR, encoding="utf-8")
    (knowledge / "trust-center.md").write_text(TRUST_CENTER, encoding="utf-8")
    return knowledge


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(home=tmp_path / "home", embedder="fake:hashing-64", database_url=database_url)


def test_an_expired_report_is_never_the_only_support_of_a_yes(
    settings: Settings, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with KnowledgeBase(settings) as kb:
        kb.ingest_paths([folder])
        monkeypatch.setenv("DDQ_TODAY", BEFORE)
        current = kb.ask(ENCRYPTED)
        assert current.status is AnswerStatus.ANSWERED and current.stance == "yes"
        assert {c.source_path.rsplit("/", 1)[-1] for c in current.citations} == {
            "acme-soc2-report.md"
        }

        monkeypatch.setenv("DDQ_TODAY", AFTER)
        expired = kb.ask(ENCRYPTED)
        assert expired.status is AnswerStatus.NEEDS_INPUT and expired.stance is None
        assert "only support has expired" in expired.reason
        assert "acme-soc2-report.md (valid until 2026-12-31" in expired.reason
        # About the report itself: the dates, stated, and not a Yes, though another page
        # still claims the report (it answers Yes while the report is current).
        monkeypatch.setenv("DDQ_TODAY", BEFORE)
        assert kb.ask(HAS_REPORT).stance == "yes"
        monkeypatch.setenv("DDQ_TODAY", AFTER)
        about = kb.ask(HAS_REPORT)
        assert about.status is AnswerStatus.NEEDS_INPUT and about.stance is None
        assert "SOC 2 report on file (acme-soc2-report.md)" in about.text
        assert "ended on 2025-12-31" in about.text and "current until 2026-12-31" in about.text
        # Supported by a current policy too: still answered, from the policy.
        mfa = kb.ask(MFA)
        assert mfa.status is AnswerStatus.ANSWERED and mfa.stance == "yes"
        assert all(c.source_path.endswith("access.md") for c in mfa.citations)
        # The unreadable validity is treated as none: its document still answers.
        assert kb.ask(SUPPLIERS).status is AnswerStatus.ANSWERED

        # A date set by hand (a bridge letter, say) wins for this version of the document.
        runner = CliRunner()
        env = {"DDQ_EMBEDDER": "fake:hashing-64", "DDQ_DATABASE_URL": settings.database_url or ""}
        args = ["--home", str(settings.home)]
        report = str(folder / "acme-soc2-report.md")
        done = runner.invoke(
            app, ["validity", report, "2027-03-31", "--note", "bridge letter", *args], env=env
        )
        assert done.exit_code == 0, done.output
        assert "valid until 2027-03-31" in done.output and "set by cli" in done.output
        assert kb.ask(ENCRYPTED).status is AnswerStatus.ANSWERED
        assert runner.invoke(app, ["validity", report, "--clear", *args], env=env).exit_code == 0
        assert kb.ask(ENCRYPTED).status is AnswerStatus.NEEDS_INPUT
        bad = runner.invoke(app, ["validity", report, "soon", *args], env=env)
        # (main() prints a DDQError as one line; the runner hands it back as it is)
        assert isinstance(bad.exception, DDQError) and "'soon' is not a date" in str(bad.exception)


def test_a_questionnaire_job_drafts_needs_input_for_expired_only_support(
    settings: Settings, folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    form = tmp_path / "form.csv"
    form.write_text(f"id,question\nA1,{ENCRYPTED}\nA2,{MFA}\nA3,{HAS_REPORT}\n", encoding="utf-8")
    monkeypatch.setenv("DDQ_TODAY", AFTER)
    with KnowledgeBase(settings) as kb:
        kb.ingest_paths([folder])
        job = QuestionnaireJob(kb)
        info, _ = job.open(form)
        job.run(info)
        drafts = job.store.drafts(info.id)
        by_qid = {q.qid: drafts[q.id] for q in job.store.questions(info.id)}
    assert by_qid["A1"].status is AnswerStatus.NEEDS_INPUT
    assert "acme-soc2-report.md" in by_qid["A1"].reason
    assert by_qid["A2"].status is AnswerStatus.ANSWERED and by_qid["A2"].stance == "yes"
    assert by_qid["A3"].status is AnswerStatus.NEEDS_INPUT
    assert "2025-12-31" in by_qid["A3"].text
    # Nothing the report alone supports is a Yes.
    for draft in by_qid.values():
        if draft.stance == "yes":
            assert not all(c.source_path.endswith("acme-soc2-report.md") for c in draft.citations)


def test_stale_lists_expired_and_soon_expiring_evidence_and_unreadable_dates(
    settings: Settings, folder: Path
) -> None:
    runner = CliRunner()
    env = {"DDQ_EMBEDDER": "fake:hashing-64", "DDQ_DATABASE_URL": settings.database_url or ""}
    args = ["--home", str(settings.home)]
    assert runner.invoke(app, ["ingest", str(folder), *args], env=env).exit_code == 0

    def stale(today: str, *more: str) -> dict[str, dict[str, object]]:
        shown = runner.invoke(app, ["stale", "--json", "--today", today, *more, *args], env=env)
        assert shown.exit_code == 0, shown.output
        data = json.loads(shown.output)
        assert data["today"] == today
        return {str(e["source_path"]).rsplit("/", 1)[-1]: e for e in data["evidence"]}

    before = stale(BEFORE)
    assert set(before) == {"vendor-review.md"}  # the report is not due yet
    assert before["vendor-review.md"]["state"] == "unreadable"
    assert before["vendor-review.md"]["problem"] == "valid_until 'next spring' is not a date"
    soon = stale(SOON)
    assert soon["acme-soc2-report.md"]["state"] == "expiring"
    assert soon["acme-soc2-report.md"]["valid_until"] == "2026-12-31"
    assert "acme-soc2-report.md" not in stale(SOON, "--warn-days", "10")
    after = stale(AFTER)
    assert after["acme-soc2-report.md"]["state"] == "expired"
    assert after["acme-soc2-report.md"]["basis"] == ("Period: January 1, 2025 to December 31, 2025")

    text = runner.invoke(app, ["stale", "--today", AFTER, *args], env=env)
    assert text.exit_code == 0
    assert "acme-soc2-report.md: valid until 2026-12-31, expired 32 days ago" in text.output
    assert "vendor-review.md: validity not readable" in text.output
    assert "1 expired, 0 expiring within 30 days, 1 unreadable" in text.output
    wrong = runner.invoke(app, ["stale", "--today", "someday", *args], env=env)
    assert isinstance(wrong.exception, DDQError)
    assert "--today: 'someday' is not a date" in str(wrong.exception)

    status = runner.invoke(app, ["status", *args], env={**env, "DDQ_TODAY": AFTER})
    assert status.exit_code == 0, status.output
    assert "evidence         acme-soc2-report.md: valid until 2026-12-31, expired" in (
        status.output
    )
    with KnowledgeBase(settings) as kb:
        found = validities(kb.store.engine, kb.workspace, TrustSettings(today=date(2027, 2, 1)))
    assert sorted(v.source_path.rsplit("/", 1)[-1] for v in found.values()) == [
        "acme-soc2-report.md",
        "vendor-review.md",
    ]
