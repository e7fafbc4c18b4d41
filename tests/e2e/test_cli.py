"""The installed command line, run as a user runs it: a separate process, real files, real
Milvus Lite and SQLite in a temporary home (with the FAKE embedder, for speed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from ddq.config import Settings
from ddq.kb import KnowledgeBase

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    def json(self) -> dict:
        try:
            return json.loads(self.stdout)
        except json.JSONDecodeError:
            pytest.fail(f"not JSON (exit {self.code}):\n{self.stdout}\n--- stderr:\n{self.stderr}")

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def ddq(*args: str, home: Path, cwd: Path, env: dict[str, str] | None = None) -> Run:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DDQ_")}
    clean.update({"DDQ_EMBEDDER": "fake:hashing-64", "NO_COLOR": "1"})
    clean.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "ddq.cli", *args, "--home", str(home)],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=180,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def assert_no_traceback(run: Run) -> None:
    assert "Traceback" not in run.stderr, run.stderr
    assert "Traceback" not in run.stdout, run.stdout


@dataclass(frozen=True)
class Ingested:
    home: Path
    docs: Path
    first: Run
    cli: Callable[..., Run]


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory, sample_kit) -> Ingested:
    """One home with the mixed knowledge folder, ingested once through the CLI."""
    sample_files, write_knowledge_folder = sample_kit
    root = tmp_path_factory.mktemp("cli")
    docs = write_knowledge_folder(sample_files(root / "docs"))
    home = root / "home"

    def cli(*args: str, **kwargs: object) -> Run:
        return ddq(*args, home=home, cwd=root, **kwargs)  # type: ignore[arg-type]

    return Ingested(home, docs, cli("ingest", str(docs)), cli)


def test_ingest_reports_every_file(ingested: Ingested) -> None:
    run = ingested.first
    assert run.code == 0, run.stderr
    assert_no_traceback(run)
    added = [line for line in run.stdout.splitlines() if line.startswith("added")]
    assert len(added) == 7
    assert any("security.md" in line and "chunks)" in line for line in added)
    assert "7 added, 0 updated, 0 unchanged, 0 failed" in run.stdout


def test_reingest_unchanged_embeds_nothing(ingested: Ingested) -> None:
    run = ingested.cli("ingest", str(ingested.docs), "--json")
    assert run.code == 0, run.stderr
    report = run.json()
    assert {r["outcome"] for r in report["results"]} == {"unchanged"}
    assert len(report["results"]) == 7
    assert report["embedded_texts"] == 0


def test_ask_human_readable(ingested: Ingested) -> None:
    run = ingested.cli("ask", "Is customer data encrypted at rest?")
    assert run.code == 0, run.stderr
    assert_no_traceback(run)
    lines = run.stdout.splitlines()
    assert lines[0] == "Q: Is customer data encrypted at rest?"
    assert lines[1].startswith("A: ") and "AES-256" in lines[1]
    assert "status: answered" in run.stdout
    assert any(
        line.strip().startswith("[1]") and "security.md (Security Policy > Encryption)" in line
        for line in lines
    )


@pytest.mark.slow
def test_ask_json_with_citations(ingested: Ingested) -> None:
    run = ingested.cli("ask", "Is customer data encrypted at rest?", "--json")
    assert run.code == 0, run.stderr
    answer = run.json()
    assert answer["status"] == "answered"
    assert answer["question"] == "Is customer data encrypted at rest?"
    assert 0 < answer["confidence"] <= 1
    [first, *_] = answer["citations"]
    assert first["source"] == str((ingested.docs / "security.md").resolve())
    assert first["location"] == "Security Policy > Encryption"
    assert "AES-256" in first["quote"]
    assert isinstance(first["chunk_id"], int)

    library = ingested.cli("ask", "Do you have a SOC 2 Type II report?", "--json").json()
    assert library["status"] == "library_match"
    assert library["answer"] == "Yes. Our SOC 2 Type II report is renewed every year."
    assert library["citations"][0]["location"] == "row 2"

    unknown = ingested.cli("ask", "Do you hold a FedRAMP High authorization?", "--json").json()
    assert unknown["status"] == "needs_input"
    assert unknown["citations"] == []


def test_search_json(ingested: Ingested) -> None:
    run = ingested.cli("search", "When are customers notified of breaches?", "--json", "-k", "3")
    assert run.code == 0, run.stderr
    result = run.json()
    assert result["query"] == "When are customers notified of breaches?"
    assert 1 <= len(result["hits"]) <= 3
    top = result["hits"][0]
    assert top["source"].endswith("incident.pdf")
    assert top["location"] == "p. 2"
    assert top["kind"] == "passage"
    assert "72 hours" in top["text"]
    scores = [h["score"] for h in result["hits"]]
    assert scores == sorted(scores, reverse=True)


def test_status_json(ingested: Ingested) -> None:
    run = ingested.cli("status", "--json")
    assert run.code == 0, run.stderr
    status = run.json()
    assert (status["workspace"], status["documents"], status["library_entries"]) == (
        "default",
        7,
        3,
    )
    assert status["embedding_model"] == "fake:hashing-64"
    assert len(status["indexes"]) == 3
    assert all(index["in_sync"] for index in status["indexes"]), status["indexes"]
    assert status["indexes"][0]["entries"] == status["chunks"]


@pytest.mark.slow
def test_reindex_then_remove(tmp_path: Path, samples) -> None:
    keep = samples.text("keep.md", "# Hosting\n\nServers run in Frankfurt and Dublin.\n")
    gone = samples.text("gone.md", "# Backups\n\nBackups are sealed with zebracrypt.\n")
    home = tmp_path / "home"

    def cli(*args: str) -> Run:
        run = ddq(*args, home=home, cwd=tmp_path)
        assert_no_traceback(run)
        return run

    assert cli("ingest", str(samples.folder)).code == 0
    before = cli("search", "zebracrypt backups", "--json").json()["hits"]
    assert before[0]["source"] == str(gone.resolve())

    reindexed = cli("reindex")
    assert reindexed.code == 0, reindexed.stderr
    assert reindexed.stdout.startswith("reindexed 2 chunks")
    assert "0 embedded, 2 from cache" in reindexed.stdout
    assert cli("search", "zebracrypt backups", "--json").json()["hits"] == before

    removed = cli("remove", str(gone))
    assert removed.code == 0, removed.stderr
    assert removed.stdout.strip() == f"removed {gone} (1 chunks)"
    hits = cli("search", "zebracrypt backups", "--json").json()["hits"]
    assert [h["source"] for h in hits] == [str(keep.resolve())]
    status = cli("status", "--json").json()
    assert status["documents"] == 1
    assert all(index["in_sync"] for index in status["indexes"])

    again = cli("remove", str(gone))
    assert again.code == 1
    assert again.error_lines == [f"error: no document {str(gone)!r} in workspace 'default'"]


def _missing(samples) -> Path:
    return samples.folder / "not-there.md"


def _encrypted_pdf(samples) -> Path:
    return samples.encrypted_pdf("locked.pdf")


def _no_question_column(samples) -> Path:
    return samples.xlsx("figures.xlsx", {"Data": [["Year", "Revenue"], [2024, 10]]})


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_missing, "no such file or folder"),
        (_encrypted_pdf, "password-protected"),
        (_no_question_column, "columns seen: 'Year', 'Revenue'"),
    ],
    ids=["missing path", "encrypted pdf", "no question column"],
)
def test_bad_input_is_one_clear_error_line(tmp_path: Path, samples, make, reason: str) -> None:
    path = make(samples)
    run = ddq("ingest", str(path), home=tmp_path / "home", cwd=tmp_path)
    assert run.code == 1
    assert_no_traceback(run)
    assert len(run.error_lines) == 1, run.stderr
    [line] = run.error_lines
    assert line.startswith("failed")
    assert path.name in line
    assert reason in line
    assert "1 failed" in run.stdout


def test_question_column_option_reads_an_unusual_library(tmp_path: Path, samples) -> None:
    library = samples.xlsx(
        "odd.xlsx",
        {
            "Answers": [
                ["Ref", "Requirement Detail", "Our Position"],
                ["R1", "Is data encrypted in transit?", "Yes, with TLS 1.2 or newer."],
            ]
        },
    )
    home = tmp_path / "home"
    refused = ddq("ingest", str(library), home=home, cwd=tmp_path)
    assert refused.code == 1
    assert "'Requirement Detail'" in refused.stderr
    accepted = ddq(
        "ingest",
        str(library),
        "--question-column",
        "Requirement Detail",
        "--answer-column",
        "Our Position",
        home=home,
        cwd=tmp_path,
    )
    assert accepted.code == 0, accepted.stderr
    assert "1 added" in accepted.stdout


def test_empty_question_is_a_clear_error(tmp_path: Path) -> None:
    run = ddq("ask", "", home=tmp_path / "home", cwd=tmp_path)
    assert run.code == 1
    assert_no_traceback(run)
    assert run.error_lines == ["error: the question is empty"]
    assert run.stdout == ""


def test_invalid_workspace_is_a_clear_config_error(tmp_path: Path) -> None:
    run = ddq("status", home=tmp_path / "home", cwd=tmp_path, env={"DDQ_WORKSPACE": "acme corp!"})
    assert run.code == 1
    assert_no_traceback(run)
    [line] = run.error_lines
    assert line.startswith("error: invalid setting workspace:")
    assert not (tmp_path / "home").exists()  # nothing was created on the way to the error


def test_a_milvus_lite_file_in_use_is_one_clear_error(tmp_path: Path, samples) -> None:
    samples.text("a.md", "# Keys\n\nCustomer-managed keys are not supported.\n")
    home = tmp_path / "home"
    assert ddq("ingest", str(samples.folder), home=home, cwd=tmp_path).code == 0
    settings = Settings(home=home, embedder="fake:hashing-64")
    with KnowledgeBase(settings) as holder:
        holder.retrieve("keys")  # this process now holds the Milvus Lite lock
        run = ddq("search", "keys", home=home, cwd=tmp_path)
    assert run.code == 1
    assert_no_traceback(run)
    assert run.error_lines == [
        f"error: {home.resolve() / 'milvus.db'} is in use by another DDQ process; Milvus Lite "
        "allows one process at a time (wait for it to finish, or use a Milvus server via "
        "DDQ_MILVUS_URI)"
    ]
    # Once the other process is gone, the same command works.
    assert ddq("search", "keys", home=home, cwd=tmp_path).code == 0


def test_migrate_brings_a_new_database_to_head_once(tmp_path: Path) -> None:
    from ddq.store.db import HEAD_REVISION

    first = ddq("migrate", home=tmp_path / "home", cwd=tmp_path)
    assert first.code == 0, first.stderr
    assert f"migrated from empty to revision {HEAD_REVISION}" in first.stdout
    again = ddq("migrate", home=tmp_path / "home", cwd=tmp_path)
    assert again.code == 0 and f"already at revision {HEAD_REVISION}" in again.stdout
    assert not (tmp_path / "home" / "milvus.db").exists()  # the store only
