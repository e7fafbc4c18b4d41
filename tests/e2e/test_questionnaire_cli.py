"""The questionnaire commands as a user runs them: separate processes, real files, real
Milvus Lite and SQLite (with the FAKE embedder, for speed), and a job killed with SIGKILL."""

from __future__ import annotations

import csv
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_cli import Run, assert_no_traceback, ddq

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
KNOWLEDGE = REPO / "examples" / "knowledge"
SAMPLE_XLSX = REPO / "examples" / "questionnaires" / "harborline_vendor_security.xlsx"
NORTHWIND = REPO.parent / "shared" / "data" / "northwind" / "questionnaires"


def northwind(name: str) -> Path:
    path = NORTHWIND / name
    if not path.is_file():
        pytest.fail(f"{path} is missing: the shared data folder must sit beside the project")
    return path


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("qcli")
    run = ddq("ingest", str(KNOWLEDGE), home=root / "home", cwd=root)
    assert run.code == 0, run.stderr
    return root / "home"


def cli(home: Path, *args: str) -> Run:
    return ddq(*args, home=home, cwd=home.parent)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_questions_finds_all_108_northwind_questions(home: Path) -> None:
    data = cli(home, "questions", str(northwind("Security_Questionnaire_Northwind_AI.xlsx")),
               "--json").json()
    assert data["count"] == 108
    ids = [q["id"] for q in data["questions"]]
    assert ids[0] == "GRC-01" and ids[-1] == "CLD-06" and len(set(ids)) == 108
    first = data["questions"][0]
    assert first["section"] == ["Governance & Risk Management"]
    assert [t["role"] for t in first["targets"]] == ["answer", "notes"]


def test_questions_finds_all_18_inbound_csv_questions(home: Path) -> None:
    data = cli(home, "questions", str(northwind("Inbound_Security_Questionnaire.csv")),
               "--json").json()
    assert data["count"] == 18
    assert [q["id"] for q in data["questions"]] == [f"Q{i:02d}" for i in range(1, 19)]
    human = cli(home, "questions", str(northwind("Inbound_Security_Questionnaire.csv")))
    assert human.code == 0 and "18 questions found" in human.stdout
    assert "Q03" in human.stdout and "Encryption" in human.stdout


def test_answer_and_export_the_sample_workbook(home: Path, tmp_path: Path) -> None:
    original = tmp_path / SAMPLE_XLSX.name
    original.write_bytes(SAMPLE_XLSX.read_bytes())
    before = sha(original)
    out = tmp_path / "out" / "answered.xlsx"
    run = cli(home, "answer", str(original), "-o", str(out), "--json")
    assert run.code == 0, run.stderr
    data = run.json()
    assert data["answered"] == data["questions"] > 20
    assert data["export"]["answered_file"] == str(out)
    assert out.is_file() and (tmp_path / "out" / "answered.report.html").is_file()
    assert (tmp_path / "out" / "answered.report.csv").is_file()
    assert sha(original) == before, "the original file must never change"
    listed = cli(home, "questionnaires", "--json").json()
    [sample] = [q for q in listed if q["name"] == original.name]
    assert sample["drafted"] == sample["questions"] == data["questions"]
    assert sample["finished_at"] is not None
    # Running it again resumes a finished job: nothing is answered twice.
    again = cli(home, "answer", str(original), "--json").json()
    assert again["answered_now"] == 0 and again["resumed"] is True
    # `ddq export` writes the same answers again, elsewhere.
    second = tmp_path / "second.xlsx"
    exported = cli(home, "export", str(original), "-o", str(second), "--json")
    assert exported.code == 0, exported.stderr
    assert exported.json()["cells_written"] == data["export"]["cells_written"]
    # An export over the original is refused with one clear line.
    refused = cli(home, "export", str(original), "-o", str(original))
    assert refused.code == 1 and len(refused.error_lines) == 1
    assert "never overwrites the original" in refused.stderr
    assert_no_traceback(refused)
    assert sha(original) == before


def test_export_of_a_file_never_answered_is_a_clear_error(home: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("id,question\nX1,Do you back up data?\n", encoding="utf-8")
    run = cli(home, "export", str(other))
    assert run.code == 1 and "run `ddq answer` on it first" in run.stderr
    assert_no_traceback(run)


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "password-protected"),
    (b"just some text, not a workbook", "not an XLSX file"),
])
def test_bad_questionnaires_are_one_clear_line(home: Path, tmp_path: Path, content: bytes,
                                               message: str) -> None:
    path = tmp_path / "bad.xlsx"
    path.write_bytes(content)
    for command in ("questions", "answer"):
        run = cli(home, command, str(path))
        assert run.code == 1, run.stdout
        assert len(run.error_lines) == 1 and message in run.stderr, run.stderr
        assert_no_traceback(run)
    assert not list(tmp_path.glob("bad-answered*")), "nothing is written for bad input"


def _drafts(home: Path) -> list[tuple[int, int, str]]:
    with sqlite3.connect(home / "ddq.sqlite3") as conn:
        try:
            return conn.execute(
                "SELECT question_id, id, created_at FROM answer_drafts ORDER BY id").fetchall()
        except sqlite3.OperationalError:  # not created yet
            return []


def test_a_job_killed_half_way_resumes_and_answers_each_question_once(
        home: Path, tmp_path: Path) -> None:
    questions = [line.strip() for line in
                 (REPO / "examples" / "sample_questions.txt").read_text().splitlines()
                 if line.strip() and not line.startswith("#")]
    big = tmp_path / "big.csv"
    with big.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ID", "Question"])
        for n in range(600):
            writer.writerow([f"B{n:04d}", f"{questions[n % len(questions)]} (item {n})"])
    job_home = tmp_path / "home"
    # A home of its own (the module's is shared), with the same knowledge.
    assert ddq("ingest", str(KNOWLEDGE), home=job_home, cwd=tmp_path).code == 0

    env = {k: v for k, v in os.environ.items() if not k.startswith("DDQ_")}
    env.update({"DDQ_EMBEDDER": "fake:hashing-64", "NO_COLOR": "1"})
    process = subprocess.Popen(
        [sys.executable, "-m", "ddq.cli", "answer", str(big), "--batch-size", "1",
         "--home", str(job_home)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        while len(_drafts(job_home)) < 60:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the job ended (or stalled) before it could be killed half-way: "
                            f"{len(_drafts(job_home))} drafts, exit {process.returncode}")
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    first = _drafts(job_home)
    assert 60 <= len(first) < 600, "killed half-way, not at the end"

    resumed = ddq("answer", str(big), "--batch-size", "16", "--json", home=job_home,
                  cwd=tmp_path)
    assert resumed.code == 0, resumed.stderr
    data = resumed.json()
    assert data["resumed"] is True
    assert data["answered"] == data["questions"] == 600
    assert data["answered_now"] == 600 - len(first)
    after = _drafts(job_home)
    counts: dict[int, int] = {}
    for question_id, _, _ in after:
        counts[question_id] = counts.get(question_id, 0) + 1
    assert len(counts) == 600 and set(counts.values()) == {1}, "each question exactly once"
    assert after[: len(first)] == first, "drafts made before the kill are kept as they were"


def test_the_drafting_model_is_chosen_by_configuration(home: Path, tmp_path: Path) -> None:
    original = tmp_path / SAMPLE_XLSX.name
    original.write_bytes(SAMPLE_XLSX.read_bytes())
    out = tmp_path / "llm.xlsx"
    run = ddq("answer", str(original), "-o", str(out), "--restart", "--json", home=home,
              cwd=home.parent, env={"DDQ_GENERATOR": "fake:grounded"})
    assert run.code == 0, run.stderr
    data = run.json()
    drafted = data["drafted_by"]
    # Library matches are used as approved; everything else went to the (FAKE) model.
    assert set(drafted) <= {"fake:grounded", "library"}
    assert drafted.get("fake:grounded", 0) > 10
    assert sum(drafted.values()) == data["questions"]
    plain = ddq("answer", str(original), "-o", str(out), "--restart", "--overwrite-existing",
                home=home, cwd=home.parent, env={"DDQ_GENERATOR": "fake:grounded"})
    assert "drafted by: fake:grounded" in plain.stdout
    missing = ddq("answer", str(original), "--restart", home=home, cwd=home.parent,
                  env={"DDQ_GENERATOR": "vllm:qwen"})
    assert missing.code == 1 and len(missing.error_lines) == 1
    assert "unknown generator provider 'vllm'" in missing.stderr
    assert_no_traceback(missing)


def test_a_word_form_with_check_boxes_is_answered_by_ticking(home: Path, tmp_path: Path) -> None:
    from ddq.questionnaire.formats.docx.reading import extract_docx
    from support.word_forms import build_form, make_docx

    original = make_docx(tmp_path, build_form, "boxes.docx")
    before = {q.text: q for q in extract_docx(original).questions}
    out = tmp_path / "out" / "boxes-answered.docx"
    run = cli(home, "answer", str(original), "-o", str(out), "--json")
    assert run.code == 0, run.stderr
    assert run.json()["answered"] == len(before) == 6
    with (tmp_path / "out" / "boxes-answered.report.csv").open(encoding="utf-8-sig") as f:
        report = {row["question"]: row for row in csv.DictReader(f)}
    after = {q.text: q for q in extract_docx(out).questions}
    assert list(after) == list(before)
    for text, question in after.items():
        was, row = before[text], report[text]
        assert question.answer is not None and was.answer is not None
        if was.answer.current is not None:  # a box the form had ticked stays as it was
            assert question.answer.current == was.answer.current, text
        elif row["verdict"] in ("yes", "no"):  # a verdict ticks its box, and only that one
            assert question.answer.current == row["verdict"].capitalize(), text
        else:  # no verdict, or needs input: the boxes are left for a person
            assert question.answer.current is None, text
        assert question.notes is not None and was.notes is not None
        if was.notes.ref.startswith("after:"):
            continue  # a new paragraph, plain text to the reader: checked in the unit tests
        if was.notes.current is not None:
            assert question.notes.current == was.notes.current, text
        elif row["status"] == "Needs input":
            assert question.notes.current == "Needs input", text
        else:  # the supporting text, without the verdict the box now carries
            assert question.notes.current and question.notes.current in row["answer"], text


def test_a_workbook_with_yes_no_columns_is_answered_by_marking(home: Path, tmp_path: Path) -> None:
    """A form that wants an X under Yes, No or N/A: each verdict is marked in its column,
    the supporting text goes to the comments, and a mark the form had stays."""
    from openpyxl import Workbook, load_workbook

    from ddq.questionnaire.formats.xlsx.reading import extract_xlsx

    form = Workbook()
    sheet = form.active
    assert sheet is not None
    sheet.title = "Vendor"
    for row in (["Question", "Yes", "No", "N/A", "Comments"],
                ["Does Tidewater support custom roles?", None, None, None, None],
                ["Do you have a SOC 2 Type II report?", None, None, None, None],
                ["Is data encrypted at rest?", None, None, None, None],
                ["Will you sign a HIPAA business associate agreement?", None, None, None, None],
                ["Is single sign-on with SAML available?", "X", None, None, "Enterprise plan"]):
        sheet.append(row)
    original = tmp_path / "marks.xlsx"
    form.save(original)
    before = {q.text: q for q in extract_xlsx(original).questions}
    out = tmp_path / "out" / "marks-answered.xlsx"
    run = cli(home, "answer", str(original), "-o", str(out), "--json")
    assert run.code == 0, run.stderr
    assert run.json()["answered"] == len(before) == 5
    with (tmp_path / "out" / "marks-answered.report.csv").open(encoding="utf-8-sig") as f:
        report = {row["question"]: row for row in csv.DictReader(f)}
    marks = {row[0].value: [c.value for c in row[1:]]
             for row in load_workbook(out)["Vendor"].iter_rows(min_row=2)}
    assert marks["Does Tidewater support custom roles?"][:3] == [None, "X", None]
    # An approved library answer ("Yes. Harborline Analytics is audited every year ...").
    soc2 = marks["Do you have a SOC 2 Type II report?"]
    assert soc2[:3] == ["X", None, None] and soc2[3].startswith("Harborline Analytics is audited")
    for text, was in before.items():
        yes, no, na, comment = marks[text]
        row = report[text]
        assert na is None, text
        if was.answer is not None and was.answer.current is not None:  # kept as it was
            assert (yes, no, comment) == ("X", None, "Enterprise plan"), text
        elif row["verdict"] in ("yes", "no"):
            assert [yes, no] == (["X", None] if row["verdict"] == "yes" else [None, "X"]), text
            assert comment and comment in row["answer"], text
        else:
            assert [yes, no] == [None, None], text
            assert comment == ("Needs input" if row["status"] == "Needs input"
                               else row["answer"]), text


def test_answers_keep_to_the_forms_character_limits(home: Path, tmp_path: Path) -> None:
    """A header that says "max 90 characters" and a text-length rule of 60 on the answers:
    every text DDQ writes fits, cut after a whole sentence or a word."""
    from openpyxl import Workbook, load_workbook
    from openpyxl.worksheet.datavalidation import DataValidation

    form = Workbook()
    sheet = form.active
    assert sheet is not None
    sheet.title = "Vendor"
    sheet.append(["Question", "Response", "Comments (max 90 characters)"])
    for text in ("Does Tidewater support custom roles?", "Describe your incident response process.",
                 "Describe how customer data is encrypted."):
        sheet.append([text, None, None])
    rule = DataValidation(type="textLength", operator="lessThanOrEqual", formula1="60")
    sheet.add_data_validation(rule)
    rule.add("B2:B4")
    original = tmp_path / "limits.xlsx"
    form.save(original)
    data = cli(home, "questions", str(original), "--json").json()
    assert [[t["max_chars"] for t in q["targets"]] for q in data["questions"]] == [[60, 90]] * 3
    out = tmp_path / "limits-answered.xlsx"
    run = cli(home, "answer", str(original), "-o", str(out))
    assert run.code == 0, run.stderr
    written = [(row[1].value, row[2].value)
               for row in load_workbook(out)["Vendor"].iter_rows(min_row=2)]
    texts = [t for pair in written for t in pair if t]
    assert texts, written
    assert all(len(r or "") <= 60 and len(c or "") <= 90 for r, c in written), written
    assert any(t.endswith(" …") for t in texts), written  # at least one answer was cut
