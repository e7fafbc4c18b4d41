"""Answered questionnaires as answer libraries, the way teams start: "here is what we
answered last year; answer this new one from it".

On the project's own reproductions of the vendor layouts (tests/support/vendor_forms.py):
ingesting each answered form stores exactly one library entry per answered question, with
its verdict and text, cited to sheet and cell; then an answered HECVAT Full answers a blank
HECVAT Lite, and an answered CAIQ a blank HECVAT, through the real job and export, with the
REAL all-MiniLM-L6-v2 (reworded questions must still match), Milvus Lite, SQLite and BM25."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from test_xlsx_roundtrip import compare_workbooks

from ddq.config import Settings
from ddq.domain import AnswerStatus
from ddq.ingest.loaders import load_file
from ddq.ingest.pipeline import Outcome
from ddq.jobs.export import export_answers
from ddq.jobs.job import QuestionnaireJob
from ddq.kb import KnowledgeBase
from ddq.models.base import Embedder
from ddq.questionnaire.detect.choices import verdict_of
from ddq.questionnaire.files import extract
from support.vendor_bank import CAIQ_TO_HECVAT
from support.vendor_forms import (
    ExpectedForm,
    build_caiq,
    build_hecvat3,
    build_hecvat4,
    build_sig,
    build_word_tables,
    hecvat_overlap,
)

pytestmark = pytest.mark.integration

Builder = Callable[[Path], ExpectedForm]
FORMS: dict[str, Builder] = {
    "hecvat3-full.xlsx": lambda p: build_hecvat3(p, "full", answered=True),
    "hecvat3-lite.xlsx": lambda p: build_hecvat3(p, "lite", answered=True),
    "hecvat4.xlsx": lambda p: build_hecvat4(p, answered=True),
    "caiq.xlsx": lambda p: build_caiq(p, answered=True),
    "caiq.xlsm": lambda p: build_caiq(p, answered=True),
    "sig.xlsx": lambda p: build_sig(p, answered=True),
    "questionnaire.docx": lambda p: build_word_tables(p, answered=True),
}


def _said(text: str | None) -> str | None:
    return verdict_of(text) if text else None


@pytest.mark.parametrize("name", sorted(FORMS))
def test_each_answered_form_gives_one_entry_per_answered_question(name: str,
                                                                   tmp_path: Path) -> None:
    path = tmp_path / name
    expected = FORMS[name](path)
    document = load_file(path, path.read_bytes())
    by_id = {b.location.qid: b for b in document.blocks}
    assert sorted(by_id) == sorted(expected.answered), name  # exactly the answered ones
    assert len(document.blocks) == len(expected.answered)
    unanswered = len(expected.answers) - len(expected.answered)
    if unanswered:
        assert any(f"{unanswered} question" in n and "without an answer skipped" in n
                   for n in document.notes), document.notes
    for qid, existing in expected.answered.items():
        block = by_id[qid]
        assert block.library_question == expected.texts[qid]
        answer = block.library_answer or ""
        verdict = _said(existing.answer)
        if verdict is not None and len(existing.answer or "") <= 20:
            # The choice place's verdict leads; the notes follow it.
            assert _said(answer.split(".", 1)[0]) == verdict, (qid, answer)
        if existing.notes:
            assert " ".join(existing.notes.split()) in " ".join(answer.split()), (qid, answer)
        if path.suffix in (".xlsx", ".xlsm"):
            assert block.location.sheet in expected.sheets and block.location.cell


def test_a_blank_form_is_no_library(tmp_path: Path) -> None:
    from ddq.errors import DDQError, ErrorCode

    path = tmp_path / "blank-lite.xlsx"
    expected = build_hecvat3(path, "lite")
    with pytest.raises(DDQError) as caught:
        load_file(path, path.read_bytes())
    assert caught.value.code is ErrorCode.EMPTY_FILE
    assert f"{len(expected.ids)} questions and none answered" in caught.value.detail


@pytest.fixture
def real_kb(tmp_path: Path, local_embedder: Embedder) -> KnowledgeBase:
    kb = KnowledgeBase(Settings(home=tmp_path / "home"), embedder=local_embedder)
    yield kb  # type: ignore[misc]
    kb.close()


def _answer_from(kb: KnowledgeBase, library: Path, blank: Path, out: Path
                 ) -> dict[str, tuple[str | None, str, str, list[str]]]:
    """Ingest ``library``, answer ``blank`` as a job, export; per question id: (the value
    written into the choice place, the status, the text, the cited sources)."""
    report = kb.ingest_paths([library])
    assert report.count(Outcome.ADDED) == 1, report.results
    job = QuestionnaireJob(kb, batch_size=16)
    info, _ = job.open(blank)
    job.run(info)
    questions = {q.id: q for q in job.store.questions(info.id)}
    drafts = job.store.drafts(info.id)
    exported = export_answers(job.store, job.store.get(kb.workspace, info.id), out)
    written = {ref: value for d in drafts.values() for ref, value in d.fill.items()}
    assert exported.written == len(written) > 0
    compare_workbooks(blank, out, written)  # nothing outside the answer cells changed
    extraction = {q.key: q for q in extract(blank).questions}
    result = {}
    for question_id, draft in drafts.items():
        question = questions[question_id]
        target = extraction[question.key].answer
        value = draft.fill.get(target.ref) if target is not None else None
        result[question.qid or question.key] = (value, draft.status.value, draft.text,
                                                [c.source_path for c in draft.citations])
    return result


def _changed_parts(before: Path, after: Path) -> set[str]:
    with zipfile.ZipFile(before) as a, zipfile.ZipFile(after) as b:
        assert a.namelist() == b.namelist()
        return {n for n in a.namelist() if a.read(n) != b.read(n)}


def test_an_answered_hecvat_full_answers_a_blank_lite(real_kb: KnowledgeBase,
                                                      tmp_path: Path) -> None:
    full, lite = tmp_path / "full-answered.xlsx", tmp_path / "lite.xlsx"
    build_hecvat3(full, "full", answered=True)
    expected = build_hecvat3(lite, "lite")
    out = tmp_path / "out" / "lite-answered.xlsx"
    got = _answer_from(real_kb, full, lite, out)
    overlap = [o for o in hecvat_overlap() if o.full_answer is not None
               and verdict_of(o.full_answer) is not None and o.qid in expected.answers]
    assert len(overlap) >= 20 and any(o.reworded for o in overlap)
    agree = [o.qid for o in overlap if got[o.qid][0] is not None
             and verdict_of(got[o.qid][0]) == verdict_of(o.full_answer or "")]
    assert len(agree) / len(overlap) >= 0.95, sorted(set(o.qid for o in overlap) - set(agree))
    # The questions whose answers changed between versions get the library's (the Full's)
    # value, cited to the file it came from.
    changed = [o for o in overlap if o.changed]
    assert len(changed) >= 2
    for o in changed:
        value, status, _, sources = got[o.qid]
        assert verdict_of(value or "") == verdict_of(o.full_answer or ""), o.qid
        assert status == AnswerStatus.LIBRARY.value and sources == [str(full)], o.qid
    # Only the answer sheet's XML changed, part by part.
    assert {p for p in _changed_parts(lite, out) if p.startswith("xl/worksheets/")} == {
        _sheet_part(lite, "Vendor Response")}


def _sheet_part(path: Path, sheet: str) -> str:
    from openpyxl import load_workbook

    names = load_workbook(path, read_only=True).sheetnames
    return f"xl/worksheets/sheet{names.index(sheet) + 1}.xml"


def test_an_answered_caiq_answers_a_blank_hecvat(real_kb: KnowledgeBase,
                                                 tmp_path: Path) -> None:
    caiq, hecvat = tmp_path / "caiq-answered.xlsx", tmp_path / "hecvat-full.xlsx"
    answered = build_caiq(caiq, answered=True)
    build_hecvat3(hecvat, "full")
    got = _answer_from(real_kb, caiq, hecvat, tmp_path / "out" / "hecvat-answered.xlsx")
    pairs = [(c, h) for c, h in CAIQ_TO_HECVAT.items()
             if verdict_of(answered.answers[c].answer or "") is not None]
    assert len(pairs) >= 5
    agree = [h for c, h in pairs if got[h][0] is not None
             and verdict_of(got[h][0]) == verdict_of(answered.answers[c].answer or "")]
    assert len(agree) / len(pairs) >= 0.95, sorted({h for _, h in pairs} - set(agree))


def test_an_imported_entry_past_its_review_date_is_evidence_not_a_reuse(
        kb: KnowledgeBase, tmp_path: Path) -> None:
    from openpyxl import Workbook

    from ddq.store.library import imported_entries

    path = tmp_path / "answered-2024.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Answers"
    sheet.append(["ID", "Question", "Answer", "Comments", "Owner", "Review by"])
    sheet.append(["A-1", "Is customer data encrypted at rest?", "Yes", "AES-256.", "CISO",
                  "2099-12-31"])
    sheet.append(["A-2", "Do you support SAML single sign-on?", "Yes", "Okta and Entra ID.",
                  "IT", "2020-01-31"])
    sheet.append(["A-3", "Do you run a bug bounty programme?", None, None, "CISO", None])
    workbook.save(path)
    report = kb.ingest_paths([path])
    [result] = report.results
    assert result.outcome is Outcome.ADDED and "1 question without an answer" in result.detail
    entries = {e.location.qid: e for e in imported_entries(kb.store.engine, kb.workspace)}
    assert sorted(entries) == ["A-1", "A-2"]
    assert (entries["A-1"].owner, str(entries["A-1"].review_by)) == ("CISO", "2099-12-31")
    assert entries["A-2"].stale() and not entries["A-1"].stale()
    fresh = kb.ask("Is customer data encrypted at rest?")
    assert fresh.status is AnswerStatus.LIBRARY and fresh.text == "Yes. AES-256."
    past = kb.ask("Do you support SAML single sign-on?")
    assert past.status is not AnswerStatus.LIBRARY  # its owner must review it first
