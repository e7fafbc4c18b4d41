"""`ddq check` and `ddq export --require-consistent` on a real job's drafts (real store, real
CSV file; the FAKE hashing embedder, so near-duplicates here are questions asked twice word
for word; the golden-set test measures the check with the real embedder)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from ddq.cli import app
from ddq.config import Settings
from ddq.domain import Answer, AnswerStatus, Citation
from ddq.errors import DDQError, ErrorCode
from ddq.jobs.job import QuestionnaireJob
from ddq.kb import KnowledgeBase
from ddq.store.questionnaires import NewDraft
from ddq.trust.consistency import Kind, check_items, job_items

pytestmark = pytest.mark.integration

KNOWLEDGE = Path(__file__).resolve().parents[2] / "examples" / "knowledge"

LAPTOPS = Citation(
    0,
    "policies/endpoint.md",
    "§2 Encryption",
    "All laptops are encrypted with BitLocker or FileVault.",
)
ROWS = [
    ("AC-1", "Do you have cyber insurance coverage?", "Yes — a 5 million policy.", "yes", []),
    ("AC-2", "Is full-disk encryption enabled on laptops?", "Yes.", "yes", [LAPTOPS]),
    ("AC-3", "Do you have cyber insurance coverage?", "No.", "no", []),
    ("AC-4", "If a laptop is lost, is the data on it protected?", "No.", "no", [LAPTOPS]),
    (
        "AC-5",
        "How long are audit logs retained?",
        "Audit logs are retained for 12 months.",
        None,
        [],
    ),
    (
        "AC-6",
        "How long are audit logs retained?",
        "Audit logs are retained for one year.",
        None,
        [],
    ),
]


def _job(tmp_path: Path, settings: Settings) -> Path:
    source = tmp_path / "vendor.csv"
    source.write_text(
        "ID,Question,Answer\n" + "".join(f'{qid},"{question}",\n' for qid, question, *_ in ROWS),
        encoding="utf-8",
    )
    with KnowledgeBase(settings) as kb:
        kb.ingest_paths([KNOWLEDGE])
        job = QuestionnaireJob(kb)
        info, _ = job.open(source)
        drafts = []
        for question, (_, text, answer, stance, cites) in zip(
            job.store.questions(info.id), ROWS, strict=True
        ):
            assert question.text == text
            target = question.answer_target
            assert target is not None
            drafts.append(
                NewDraft(
                    question.id,
                    Answer(
                        text, AnswerStatus.ANSWERED, answer, 0.9, "planted", list(cites), stance
                    ),
                    {target.ref: answer},
                    "test",
                )
            )
        assert all(job.store.save_drafts(drafts))
        items = job_items(job.store, info.id)
        report = check_items(items, kb.embedder)
    assert {(f.kind, f.pair) for f in report.findings} == {
        (Kind.VERDICT, frozenset(("AC-1", "AC-3"))),
        (Kind.PASSAGE, frozenset(("AC-2", "AC-4"))),
    }  # 12 months and one year are one value
    return source


def test_check_lists_each_contradiction_with_both_questions_and_the_passage(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", embedder="fake:hashing-64")
    source = _job(tmp_path, settings)
    runner = CliRunner()
    args = ["--home", str(settings.home)]
    env = {"DDQ_EMBEDDER": "fake:hashing-64"}
    shown = runner.invoke(app, ["check", str(source), *args], env=env)
    assert shown.exit_code == 1, shown.output
    assert "2 contradictions in 6 answers" in shown.output
    assert "each question compared with its 10 nearest" in shown.output
    for qid in ("AC-1", "AC-2", "AC-3", "AC-4"):
        assert f"{qid}:" in shown.output
    assert "passage: policies/endpoint.md (§2 Encryption)" in shown.output
    data = json.loads(runner.invoke(app, ["check", str(source), "--json", *args], env=env).output)
    passage = next(c for c in data["contradictions"] if c["kind"] == "passage")
    assert {q["id"] for q in passage["questions"]} == {"AC-2", "AC-4"}
    assert passage["passages"] == [
        {"source": "policies/endpoint.md", "location": "§2 Encryption", "quote": LAPTOPS.quote}
    ]

    # Export refuses while they stand, writing nothing; without the flag it exports.
    out = tmp_path / "out" / "answered.csv"
    refused = runner.invoke(
        app, ["export", str(source), "-o", str(out), "--require-consistent", *args], env=env
    )
    assert isinstance(refused.exception, DDQError)
    assert refused.exception.code is ErrorCode.CONFLICT
    assert "2 contradictions" in refused.exception.detail and not out.exists()
    done = runner.invoke(app, ["export", str(source), "-o", str(out), *args], env=env)
    assert done.exit_code == 0, done.output
    assert out.is_file() and out.with_name("answered.csv.provenance.json").is_file()


def test_a_consistent_job_exports_with_the_flag(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", embedder="fake:hashing-64")
    source = tmp_path / "ok.csv"
    source.write_text("ID,Question,Answer\nQ1,Do you encrypt backups?,\n", encoding="utf-8")
    with KnowledgeBase(settings) as kb:
        kb.ingest_paths([KNOWLEDGE])
        job = QuestionnaireJob(kb)
        info, _ = job.open(source)
        (question,) = job.store.questions(info.id)
        assert question.answer_target is not None
        job.store.save_drafts(
            [
                NewDraft(
                    question.id,
                    Answer(question.text, AnswerStatus.ANSWERED, "Yes.", 0.9, "planted", [], "yes"),
                    {question.answer_target.ref: "Yes."},
                    "test",
                )
            ]
        )
    runner = CliRunner()
    args = ["--home", str(settings.home)]
    env = {"DDQ_EMBEDDER": "fake:hashing-64"}
    checked = runner.invoke(app, ["check", str(source), *args], env=env)
    assert checked.exit_code == 0 and "no contradictions in 1 answers" in checked.output
    out = tmp_path / "ok-answered.csv"
    done = runner.invoke(
        app, ["export", str(source), "-o", str(out), "--require-consistent", *args], env=env
    )
    assert done.exit_code == 0, done.output
    assert out.read_text(encoding="utf-8").splitlines()[1].endswith("Yes.")
    missing = runner.invoke(app, ["check", str(tmp_path / "other.csv"), *args], env=env)
    assert isinstance(missing.exception, DDQError)


def test_the_service_lists_contradictions_and_can_refuse_the_export(tmp_path: Path) -> None:
    from ddq.api.app import create_app
    from ddq.store.keys import KeyStore, Role
    from ddq.store.questionnaires import QuestionnaireStore
    from support.service import serve

    settings = Settings(home=tmp_path / "home", embedder="fake:hashing-64")
    source = _job(tmp_path, settings)
    kb = KnowledgeBase(settings)
    try:
        key = KeyStore(kb.store.engine).create(workspace="default", name="v", role=Role.VIEWER)[1]
        info = QuestionnaireStore(kb.store.engine).latest("default")
        assert info is not None and info.name == source.name
        with serve(create_app(kb.settings, kb=kb)) as url:
            client = httpx.Client(
                base_url=url, timeout=60, headers={"Authorization": f"Bearer {key}"}
            )
            found = client.get(f"/api/questionnaires/{info.id}/consistency")
            assert found.status_code == 200, found.text
            kinds = sorted(c["kind"] for c in found.json()["contradictions"])
            assert kinds == ["passage", "verdict"]
            refused = client.get(
                f"/api/questionnaires/{info.id}/export", params={"require_consistent": True}
            )
            assert refused.status_code == 409 and refused.json()["error_code"] == "conflict"
            assert "2 contradictions" in refused.json()["detail"]
            assert client.get(f"/api/questionnaires/{info.id}/export").status_code == 200
    finally:
        kb.close()
