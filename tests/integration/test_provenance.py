"""Provenance inside the exported file: export, edit one answer, `ddq verify` says exactly which.

Real files, a real store, the REAL LibreOffice (it re-saves the edited workbook and document,
and opens the exports), the FAKE hashing embedder (what is answered does not matter here,
what the record says about it does).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ddq.cli import app
from ddq.config import Settings
from ddq.errors import DDQError
from ddq.jobs.export import export_answers
from ddq.jobs.job import QuestionnaireJob
from ddq.kb import KnowledgeBase
from ddq.questionnaire.files import write
from ddq.store.questionnaires import QuestionnaireStore
from ddq.store.review import ReviewAction, ReviewStore
from ddq.trust.carrier import NAMESPACE, read_carried
from ddq.trust.provenance import RecordState, load_key
from ddq.trust.record import EDITED, SOURCES_CHANGED, UNCHANGED, verify_file

ROOT = Path(__file__).resolve().parents[2]
XLSX = ROOT / "examples" / "questionnaires" / "harborline_vendor_security.xlsx"
DOCX = ROOT / "examples" / "questionnaires" / "harborline_investor_ddq.docx"

pytestmark = pytest.mark.integration


def _office() -> str:
    found = shutil.which("libreoffice") or shutil.which("soffice")
    if found is None:
        pytest.fail("LibreOffice is not installed; run scripts/system-packages.sh")
    return found


def _libreoffice(tmp_path: Path, path: Path, target: str, outdir: Path) -> Path:
    """``path`` opened and saved again (or converted) by LibreOffice headless."""
    result = subprocess.run(
        [
            _office(),
            f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
            "--headless",
            "--convert-to",
            target,
            "--outdir",
            str(outdir),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = outdir / f"{path.stem}.{target.split(':')[0]}"
    assert out.is_file() and out.stat().st_size > 0, (result.stdout, result.stderr)
    return out


def _answered(
    kb: KnowledgeBase, tmp_path: Path, source: Path, knowledge: Path | None = None
) -> tuple[QuestionnaireJob, Any, Path]:
    """Ingest, answer, approve one answer, export with provenance; (job, info, exported)."""
    if knowledge is None:
        knowledge = tmp_path / "knowledge"
        shutil.copytree(ROOT / "examples" / "knowledge", knowledge)
    kb.ingest_paths([knowledge])
    copy = tmp_path / source.name
    shutil.copyfile(source, copy)
    job = QuestionnaireJob(kb, batch_size=16)
    info, _ = job.open(copy)
    result = job.run(info)
    approvable = next(
        q
        for q in job.store.questions(info.id)
        if job.store.drafts(info.id)[q.id].status.value != "needs_input"
    )
    ReviewStore(kb.store.engine).review(
        workspace=kb.workspace,
        questionnaire_id=info.id,
        question_id=approvable.id,
        action=ReviewAction.APPROVE,
        seen_version=0,
        actor="alice@example.com",
    )
    out = tmp_path / "out" / f"answered{source.suffix}"
    exported = export_answers(
        job.store, result.questionnaire, out, provenance_key=load_key(kb.settings.home)
    )
    assert exported.provenance
    return job, result.questionnaire, out


def _edit_one(store: QuestionnaireStore, info: Any, exported: Path, dst: Path) -> str:
    """Rewrite one answer place of ``exported`` into ``dst``; the question id edited."""
    question = next(
        q
        for q in store.questions(info.id)
        if q.notes_target is not None or q.answer_target is not None
    )
    target = question.notes_target or question.answer_target
    assert target is not None
    # The answered copy's own refs (a Word answer paragraph is new there).
    from ddq.questionnaire.files import extract

    again = next(q for q in extract(exported).questions if q.key == question.key)
    place = next(t for t in again.targets if t.role == target.role)
    write(exported, dst, {place.ref: "Edited by hand after export."})
    return question.qid or question.key


def _states(report: Any) -> dict[str, str]:
    return {a.question: a.state for a in report.answers}


@pytest.mark.parametrize("source", [XLSX, DOCX], ids=["xlsx", "docx"])
def test_one_edited_answer_is_reported_and_nothing_else(
    source: Path, kb: KnowledgeBase, tmp_path: Path
) -> None:
    job, info, exported = _answered(kb, tmp_path, source)
    key = load_key(kb.settings.home)
    fresh = verify_file(exported, key, kb.store)
    assert fresh.record_state == RecordState.VALID and fresh.sources_checked
    assert fresh.answers and set(_states(fresh).values()) == {UNCHANGED}
    record = fresh.record
    assert record is not None and record.ddq_version and record.workspace == kb.workspace
    approved = [a for a in record.answers if a.approved_by]
    assert [a.approved_by for a in approved] == ["alice@example.com"]
    assert approved[0].approved_at and approved[0].drafted_by
    assert all(len(a.answer_sha256) == 64 and a.places for a in record.answers)
    cited = [s for a in record.answers for s in a.sources]
    assert cited and all(s.passage_sha256 and s.document_sha256 for s in cited)

    edited = tmp_path / f"edited{source.suffix}"
    which = _edit_one(job.store, info, exported, edited)
    states = _states(verify_file(edited, key, kb.store))
    assert states[which] == EDITED
    assert {q: s for q, s in states.items() if q != which} == {
        q: UNCHANGED for q in states if q != which
    }

    # LibreOffice opens the edited file and saves it again: the record survives (7.4 keeps
    # custom XML parts in both formats) and still tells the one edit from the rest.
    target = "docx:MS Word 2007 XML" if source.suffix == ".docx" else "xlsx"
    resaved = _libreoffice(tmp_path, edited, target, tmp_path / "lo")
    assert _states(verify_file(resaved, key, kb.store)) == states


@pytest.mark.parametrize("source", [XLSX, DOCX], ids=["xlsx", "docx"])
def test_exports_with_the_record_open_in_libreoffice(
    source: Path, kb: KnowledgeBase, tmp_path: Path
) -> None:
    _, _, exported = _answered(kb, tmp_path, source)
    pdf = _libreoffice(tmp_path, exported, "pdf", tmp_path / "pdf")
    assert pdf.read_bytes().startswith(b"%PDF")


def _inserted(before: bytes, after: bytes) -> bytes:
    """The one element ``after`` has that ``before`` lacks (nothing else may differ)."""
    extra = len(after) - len(before)
    assert extra > 0
    start = 0
    while start < len(before) and before[start] == after[start]:
        start += 1
    for at in range(start, max(-1, start - extra - 1), -1):  # the element starts with "<"
        if after[at : at + 1] == b"<" and after[:at] + after[at + extra :] == before:
            return after[at : at + extra]
    raise AssertionError("more than one element was added")


@pytest.mark.parametrize("source", [XLSX, DOCX], ids=["xlsx", "docx"])
def test_the_record_is_the_only_change_to_the_package(
    source: Path, kb: KnowledgeBase, tmp_path: Path
) -> None:
    """The same export with and without the record: every entry identical, in the same order,
    except the three new customXml parts at the end and one element added to the content
    types and to the main part's relationships."""
    job, info, with_record = _answered(kb, tmp_path, source)
    plain = tmp_path / "plain" / f"answered{source.suffix}"
    export_answers(job.store, info, plain)
    with zipfile.ZipFile(plain) as a, zipfile.ZipFile(with_record) as b:
        names_a, names_b = a.namelist(), b.namelist()
        assert names_b[: len(names_a)] == names_a
        added = names_b[len(names_a) :]
        assert len(added) == 3 and all(n.startswith("customXml/") for n in added)
        changed = {n for n in names_a if a.read(n) != b.read(n)}
        main_rels = (
            "word/_rels/document.xml.rels"
            if source.suffix == ".docx"
            else "xl/_rels/workbook.xml.rels"
        )
        assert changed == {"[Content_Types].xml", main_rels}
        override = _inserted(a.read("[Content_Types].xml"), b.read("[Content_Types].xml"))
        assert re.fullmatch(
            rb'<Override PartName="/customXml/itemProps\d+\.xml" '
            rb'ContentType="[^"]+customXmlProperties\+xml"/>',
            override,
        )
        rel = _inserted(a.read(main_rels), b.read(main_rels))
        assert re.fullmatch(
            rb'<Relationship Id="rIdDdq1" Type="[^"]+/customXml" '
            rb'Target="\.\./customXml/item\d+\.xml"/>',
            rel,
        )
        for info_a in a.infolist():
            info_b = b.getinfo(info_a.filename)
            assert (info_a.compress_type, info_a.date_time) == (
                info_b.compress_type,
                info_b.date_time,
            )


def _rewrite_record(path: Path, dst: Path, change: Any) -> None:
    """Copy ``path`` to ``dst`` with the record part's bytes replaced by ``change(bytes)``."""
    carried = read_carried(path)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(dst, "w") as out:
        for item in src.infolist():
            data = src.read(item)
            out.writestr(item, change(data) if item.filename == carried.where else data)


def test_a_tampered_or_malformed_record_is_reported_and_never_trusted(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    job, info, exported = _answered(kb, tmp_path, XLSX)
    key = load_key(kb.settings.home)
    edited = tmp_path / "edited.xlsx"
    which = _edit_one(job.store, info, exported, edited)
    envelope = json.loads(read_carried(edited).text or "")
    answer = next(
        a for a in envelope["record"]["answers"] if (a["qid"] or a["question_key"]) == which
    )
    # Someone "fixes" the record so that the edit looks original: the signature catches it.
    from ddq.trust.record import read_places

    now = read_places(edited, envelope["record"]["options"]) or {}
    for role in answer["places"]:
        from ddq.trust.provenance import sha256_text

        answer["places"][role] = sha256_text(now[(answer["question_key"], role)] or "")
    forged = json.dumps(envelope).encode()
    cases = {
        "forged": (lambda data: _xml(forged), RecordState.TAMPERED),
        "not json": (lambda data: _xml(b"{not json"), RecordState.MALFORMED),
        "not xml": (lambda data: data[: len(data) // 2], RecordState.MALFORMED),
        "empty": (lambda data: _xml(b""), RecordState.MALFORMED),
    }
    for name, (change, state) in cases.items():
        bad = tmp_path / f"{name}.xlsx"
        _rewrite_record(edited, bad, change)
        report = verify_file(bad, key, kb.store)
        assert report.record_state == state, (name, report.problem)
        assert report.record is None and report.answers == [] and report.problem, name
    # Another installation's key: not checkable here, so not trusted either.
    other = verify_file(exported, b"k" * 32, kb.store)
    assert other.record_state == RecordState.FOREIGN and other.answers == []
    # No record at all (a program that drops the part saved it).
    with zipfile.ZipFile(exported) as src, zipfile.ZipFile(tmp_path / "bare.xlsx", "w") as out:
        for item in src.infolist():
            if not item.filename.startswith("customXml/"):
                out.writestr(item, src.read(item))
    bare = verify_file(tmp_path / "bare.xlsx", key, kb.store)
    assert bare.record_state == RecordState.MISSING and bare.answers == []


def _xml(payload: bytes) -> bytes:
    from xml.sax.saxutils import escape

    return (
        f'<?xml version="1.0"?><provenance xmlns="{NAMESPACE}">'.encode()
        + escape(payload.decode()).encode()
        + b"</provenance>"
    )


def test_answers_whose_cited_passage_changed_are_reported(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(ROOT / "examples" / "knowledge", knowledge)
    job, info, exported = _answered(kb, tmp_path, XLSX, knowledge)
    key = load_key(kb.settings.home)
    record = verify_file(exported, key, kb.store).record
    assert record is not None
    # One sentence of one cited Markdown passage changes; the document is ingested again.
    drafts = job.store.drafts(info.id)
    citation = next(
        c
        for d in drafts.values()
        for c in d.citations
        if c.source_path.endswith(".md")
        and c.quote in Path(c.source_path).read_text(encoding="utf-8")
    )
    path = Path(citation.source_path)
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            citation.quote, citation.quote.rstrip(".") + ", except on weekends.", 1
        ),
        encoding="utf-8",
    )
    kb.ingest_paths([knowledge])
    report = verify_file(exported, key, kb.store)
    citing = {
        (a.qid or a.question_key)
        for a in record.answers
        if any(
            s.source_path == citation.source_path and s.location == citation.location
            for s in a.sources
        )
    }
    states = _states(report)
    assert citing and {q for q, s in states.items() if s == SOURCES_CHANGED} <= citing
    changed = [a for a in report.answers if a.state == SOURCES_CHANGED]
    assert changed and all(c.why == "passage changed" for a in changed for c in a.changed_sources)
    assert all(s == UNCHANGED for q, s in states.items() if q not in citing)


def test_a_csv_export_carries_its_record_beside_it(kb: KnowledgeBase, tmp_path: Path) -> None:
    source = tmp_path / "src" / "form.csv"
    source.parent.mkdir()
    source.write_text(
        "ID,Question,Answer\nQ1,Do you encrypt data at rest?,\n"
        "Q2,Do you have an incident response plan?,\n",
        encoding="utf-8",
    )
    job, info, exported = _answered(kb, tmp_path, source)
    sidecar = exported.with_name(exported.name + ".provenance.json")
    assert sidecar.is_file()
    key = load_key(kb.settings.home)
    assert set(_states(verify_file(exported, key, kb.store)).values()) == {UNCHANGED}
    edited = tmp_path / "out2" / "answered.csv"
    edited.parent.mkdir()
    which = _edit_one(job.store, info, exported, edited)
    shutil.copyfile(sidecar, edited.with_name(edited.name + ".provenance.json"))
    states = _states(verify_file(edited, key, kb.store))
    assert states[which] == EDITED and list(states.values()).count(EDITED) == 1
    sidecar.write_text("{}", encoding="utf-8")
    assert verify_file(exported, key, kb.store).record_state == RecordState.MALFORMED


def test_ddq_export_and_verify_on_the_command_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = Settings(home=home, embedder="fake:hashing-64")
    with KnowledgeBase(settings) as kb:
        _, info, _ = _answered(kb, tmp_path, XLSX)
        source = Path(info.source_path)
    runner = CliRunner()
    args = ["--home", str(home)]
    env = {"DDQ_EMBEDDER": "fake:hashing-64"}
    out = tmp_path / "cli" / "answered.xlsx"
    done = runner.invoke(app, ["export", str(source), "-o", str(out), *args], env=env)
    assert done.exit_code == 0, done.output
    verified = runner.invoke(app, ["verify", str(out), *args], env=env)
    assert verified.exit_code == 0, verified.output
    assert "record signature valid" in verified.output
    assert re.search(r"\d+ unchanged since export", verified.output)
    with KnowledgeBase(settings) as kb:
        which = _edit_one(
            QuestionnaireStore(kb.store.engine), info, out, tmp_path / "cli" / "edited.xlsx"
        )
    edited = runner.invoke(
        app, ["verify", str(tmp_path / "cli" / "edited.xlsx"), "--json", *args], env=env
    )
    assert edited.exit_code == 1
    data = json.loads(edited.output)
    assert [a["question"] for a in data["answers"] if a["state"] == EDITED] == [which]
    missing = runner.invoke(app, ["verify", str(tmp_path / "nothing.xlsx"), *args], env=env)
    assert isinstance(missing.exception, DDQError)  # main() prints it as one line
    assert "no such file" in missing.exception.detail
    elsewhere = runner.invoke(app, ["verify", str(out), "--home", str(tmp_path / "other")], env=env)
    assert isinstance(elsewhere.exception, DDQError)
    assert "no provenance key" in elsewhere.exception.detail
    assert not (tmp_path / "other" / "provenance.key").exists()
