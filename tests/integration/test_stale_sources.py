"""Stale when the source changes: ingest, answer and approve a questionnaire; change one
sentence of one cited policy and re-ingest; exactly the approved drafts and library entries
that cite that passage are flagged, with both versions of it, and nothing else is. A removed
document flags its citers too; approving again clears a flag; a flagged library entry is
evidence only until its owner approves it again. Real SQLite / PostgreSQL, Milvus Lite and
BM25; the fake hashing embedder."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ddq.api.library import approved_to_library
from ddq.cli import app
from ddq.config import Settings
from ddq.domain import AnswerStatus
from ddq.jobs.job import QuestionnaireJob
from ddq.kb import KnowledgeBase
from ddq.store.library import LibraryStore
from ddq.store.review import ReviewAction, ReviewStore
from ddq.trust.stale import stale_answers

pytestmark = pytest.mark.integration

ACCESS = """# Access Control Policy

## Passwords

Passwords must be at least 12 characters long. Every password is checked against a list of
known breached passwords when it is set.

## Multi-factor authentication

Multi-factor authentication is enforced for every employee on every production system.

## Access reviews

Access rights to production systems are reviewed every quarter by the system owner.
"""
ENCRYPTION = """# Encryption Policy

## At rest

Customer data is encrypted at rest with AES-256 in every database and backup.
"""
BACKUP = """# Backup Policy

## Backups

Backups of customer data are taken every day and kept for 35 days.
"""
QUESTIONS = {
    "Q1": "Must passwords be at least 12 characters long?",
    "Q2": "Is multi-factor authentication enforced for every employee?",
    "Q3": "How often are access rights to production systems reviewed?",
    "Q4": "Is customer data encrypted at rest?",
    "Q5": "How long are backups of customer data kept?",
}
OLD = "Passwords must be at least 12 characters long."
NEW = "Passwords must be at least 14 characters long."


@pytest.fixture
def home(tmp_path: Path, database_url: str) -> Settings:
    return Settings(home=tmp_path / "home", embedder="fake:hashing-64", database_url=database_url)


def _approve_all(kb: KnowledgeBase, questionnaire_id: int) -> dict[str, int]:
    """Approve every answered draft; the ids of the approved questions by form id."""
    reviews = ReviewStore(kb.store.engine)
    job = QuestionnaireJob(kb)
    drafts = job.store.drafts(questionnaire_id)
    approved = {}
    for question in job.store.questions(questionnaire_id):
        draft = drafts[question.id]
        if draft.status is AnswerStatus.NEEDS_INPUT:
            continue
        seen = reviews.reviews(questionnaire_id)[question.id].version
        reviews.review(
            workspace=kb.workspace,
            questionnaire_id=questionnaire_id,
            question_id=question.id,
            action=ReviewAction.APPROVE,
            seen_version=seen,
            actor="alice",
        )
        approved[question.qid or ""] = question.id
    return approved


def test_one_changed_sentence_flags_exactly_its_citers(home: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "access.md").write_text(ACCESS, encoding="utf-8")
    (folder / "encryption.md").write_text(ENCRYPTION, encoding="utf-8")
    (folder / "backup.md").write_text(BACKUP, encoding="utf-8")
    form = tmp_path / "form.csv"
    form.write_text(
        "id,question\n" + "".join(f"{k},{q}\n" for k, q in QUESTIONS.items()), encoding="utf-8"
    )
    lock = threading.Lock()
    with KnowledgeBase(home) as kb:
        kb.ingest_paths([folder])
        job = QuestionnaireJob(kb)
        info, _ = job.open(form)
        job.run(info)
        drafts = job.store.drafts(info.id)
        by_qid = {q.qid: drafts[q.id] for q in job.store.questions(info.id)}
        # Each question is answered from its own passage (the premise of what follows).
        cites = {
            qid: {c.source_path.rsplit("/", 1)[-1] for c in d.citations}
            for qid, d in by_qid.items()
        }
        assert cites == {
            "Q1": {"access.md"},
            "Q2": {"access.md"},
            "Q3": {"access.md"},
            "Q4": {"encryption.md"},
            "Q5": {"backup.md"},
        }
        assert any(OLD in c.quote for c in by_qid["Q1"].citations)
        approved = _approve_all(kb, info.id)
        assert set(approved) == set(QUESTIONS)
        # Q1's answer goes into the library, as approving it in the service does.
        assert approved_to_library(kb, info.id, [approved["Q1"]], "alice", lock) == 1
        [entry] = LibraryStore(kb.store.engine).list(kb.workspace)
        assert kb.ask(QUESTIONS["Q1"]).status is AnswerStatus.LIBRARY
        assert stale_answers(kb.store.engine, kb.workspace) == []

        # One sentence of one cited passage changes; the other passages of the same file
        # (cited by Q2 and Q3) do not.
        (folder / "access.md").write_text(ACCESS.replace(OLD, NEW), encoding="utf-8")
        report = kb.ingest_paths([folder])
        assert [r.outcome.value for r in report.results].count("updated") == 1

        flags = stale_answers(kb.store.engine, kb.workspace)
        assert [(f.subject, f.id) for f in flags] == [
            ("draft", approved["Q1"]),
            ("library", entry.id),
        ]
        for flag in flags:
            [change] = flag.changes
            assert change.kind == "changed"
            assert change.source_path.endswith("access.md")
            assert OLD in change.before and NEW not in change.before
            assert change.after is not None and NEW in change.after and OLD not in change.after
            assert "Passwords" in change.location
        # Flagged, the library entry is evidence only: never reused verbatim.
        assert kb.ask(QUESTIONS["Q1"]).status is not AnswerStatus.LIBRARY

        # The owner approves the entry again (an update in the service): reused again.
        LibraryStore(kb.store.engine).update(
            workspace=kb.workspace,
            item_id=entry.id,
            seen_version=entry.version,
            actor="owner",
            changes={"answer": entry.answer},
        )
        assert kb.ask(QUESTIONS["Q1"]).status is AnswerStatus.LIBRARY
        # The reviewer approves the draft again: its flag is gone, no other appears.
        reviews = ReviewStore(kb.store.engine)
        seen = reviews.reviews(info.id)[approved["Q1"]].version
        reviews.review(
            workspace=kb.workspace,
            questionnaire_id=info.id,
            question_id=approved["Q1"],
            action=ReviewAction.APPROVE,
            seen_version=seen,
            actor="alice",
        )
        assert stale_answers(kb.store.engine, kb.workspace) == []

        # A re-ingest with nothing changed flags nothing; a removed document flags its
        # citers, and only them.
        kb.ingest_paths([folder])
        assert stale_answers(kb.store.engine, kb.workspace) == []
        kb.remove(str(folder / "backup.md"))
        [removed] = stale_answers(kb.store.engine, kb.workspace)
        assert (removed.subject, removed.id) == ("draft", approved["Q5"])
        [change] = removed.changes
        assert change.kind == "document removed" and change.after is None
        assert "kept for 35 days" in change.before

    # The command line shows the same, old and new side by side (the removed file is gone
    # from the folder too, or ingesting the folder would bring its passage back).
    (folder / "backup.md").unlink()
    (folder / "encryption.md").write_text(
        ENCRYPTION.replace("AES-256", "AES-128"), encoding="utf-8"
    )
    runner = CliRunner()
    args = ["--home", str(home.home)]
    env = {"DDQ_EMBEDDER": "fake:hashing-64", "DDQ_DATABASE_URL": home.database_url or ""}
    assert runner.invoke(app, ["ingest", str(folder), *args], env=env).exit_code == 0
    shown = runner.invoke(app, ["stale", *args], env=env)
    assert shown.exit_code == 0, shown.output
    assert "form.csv question Q5" in shown.output and "passage document removed" in shown.output
    assert "form.csv question Q4" in shown.output and "passage changed" in shown.output
    assert "AES-256" in shown.output and "AES-128" in shown.output
    assert "question Q1" not in shown.output and "question Q2" not in shown.output
    data = json.loads(runner.invoke(app, ["stale", "--json", *args], env=env).output)
    assert sorted(f["qid"] for f in data["source_changed"]) == ["Q4", "Q5"]
    [q4] = [f for f in data["source_changed"] if f["qid"] == "Q4"]
    assert "AES-256" in q4["changes"][0]["before"] and "AES-128" in q4["changes"][0]["after"]
