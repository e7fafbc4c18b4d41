"""The questionnaire-job store contract, on SQLite and on a real PostgreSQL database: a job
is created once, each question gets exactly one job draft, and progress is read back."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from ddq.domain import Answer, AnswerStatus, Citation
from ddq.forms import ExtractedQuestion, Target, TargetRole
from ddq.store.questionnaires import NewDraft, QuestionnaireStore

pytestmark = pytest.mark.integration


@pytest.fixture
def qstore(engine: Engine) -> QuestionnaireStore:
    return QuestionnaireStore(engine)


def questions(n: int) -> list[ExtractedQuestion]:
    return [
        ExtractedQuestion(
            key=f"Q{i}", text=f"Question {i}?", qid=f"Q{i}", section=("Security", "Access"),
            location=f"Sheet!B{i + 2}",
            answer=Target(TargetRole.ANSWER, f"Sheet!C{i + 2}", ("Yes", "No", "N/A")),
            notes=Target(TargetRole.NOTES, f"Sheet!D{i + 2}", (), "kept" if i == 0 else None),
        )
        for i in range(n)
    ]


def create(store: QuestionnaireStore, key: str = "job-1", n: int = 3):  # type: ignore[no-untyped-def]
    return store.create(workspace="w", job_key=key, name="q.xlsx", source_path="/tmp/q.xlsx",
                        source_hash="abc", format="xlsx", options={"sheet": "Sheet"},
                        layout={"sheets": {"Sheet": {"header_row": 1}}}, questions=questions(n))


def answer(text: str = "Yes. We do.", status: AnswerStatus = AnswerStatus.ANSWERED) -> Answer:
    return Answer("q", status, text, 0.8, "because", [Citation(7, "policy.md", "§2", "We do.")],
                  "yes")


def test_a_job_is_created_once_with_its_questions(qstore: QuestionnaireStore) -> None:
    info, created = create(qstore)
    again, created_again = create(qstore)
    assert created and not created_again
    assert again.id == info.id and info.question_count == 3
    assert info.options == {"sheet": "Sheet"}
    stored = qstore.questions(info.id)
    assert [q.key for q in stored] == ["Q0", "Q1", "Q2"]
    first = stored[0]
    assert first.section == ("Security", "Access")
    assert first.answer_target == Target(TargetRole.ANSWER, "Sheet!C2", ("Yes", "No", "N/A"))
    assert first.notes_target is not None and first.notes_target.current == "kept"
    other, created_other = create(qstore, key="job-2", n=1)
    assert created_other and other.id != info.id
    assert [q.id for q in qstore.all("w")] == [info.id, other.id]
    assert qstore.all("elsewhere") == []


def test_each_question_gets_exactly_one_job_draft(qstore: QuestionnaireStore) -> None:
    info, _ = create(qstore)
    first, second, third = qstore.questions(info.id)
    assert qstore.save_drafts([NewDraft(first.id, answer(), {"Sheet!C2": "Yes"},
                                        "extractive")]) == [True]
    # A second run (or a second process) reaching the same question does not add a draft.
    assert qstore.save_drafts([NewDraft(first.id, answer("No."), {"Sheet!C2": "No"},
                                        "extractive")]) == [False]
    assert qstore.save_drafts([NewDraft(third.id, answer("Needs input", AnswerStatus.NEEDS_INPUT),
                                        {}, "extractive")]) == [True]
    assert [q.id for q in qstore.pending(info.id)] == [second.id]
    drafts = qstore.drafts(info.id)
    assert drafts[first.id].text == "Yes. We do." and drafts[first.id].fill == {"Sheet!C2": "Yes"}
    assert drafts[first.id].citations == [Citation(7, "policy.md", "§2", "We do.")]
    assert qstore.draft_counts(info.id) == {first.id: 1, second.id: 0, third.id: 1}
    progress = qstore.progress(info.id)
    assert (progress.total, progress.done, progress.remaining) == (3, 2, 1)
    assert progress.by_status == {"answered": 1, "needs_input": 1}


def test_a_batch_of_drafts_is_saved_together_and_keeps_a_draft_another_process_made(
        qstore: QuestionnaireStore) -> None:
    info, _ = create(qstore, n=4)
    q0, q1, q2, q3 = qstore.questions(info.id)
    assert qstore.save_drafts([NewDraft(q0.id, answer(), {"Sheet!C2": "Yes"}, "extractive"),
                               NewDraft(q1.id, answer("No."), {}, "extractive")]) == [True, True]
    # Another process drafted q2 first: the batch saves q3 and leaves q2's draft as it was.
    assert qstore.save_drafts([NewDraft(q2.id, answer("First."), {}, "other")]) == [True]
    batch = [NewDraft(q2.id, answer("Second."), {}, "extractive"),
             NewDraft(q3.id, answer("Needs input", AnswerStatus.NEEDS_INPUT), {}, "extractive")]
    assert qstore.save_drafts(batch) == [False, True]
    drafts = qstore.drafts(info.id)
    assert [drafts[q.id].text for q in (q0, q1, q2, q3)] == ["Yes. We do.", "No.", "First.",
                                                             "Needs input"]
    assert drafts[q2.id].answerer == "other"
    assert qstore.draft_counts(info.id) == {q0.id: 1, q1.id: 1, q2.id: 1, q3.id: 1}
    assert qstore.save_drafts([]) == []


def test_finish_is_recorded_once(qstore: QuestionnaireStore) -> None:
    info, _ = create(qstore, n=1)
    assert info.finished_at is None
    qstore.finish(info.id)
    finished = qstore.get("w", info.id).finished_at
    assert finished is not None
    qstore.finish(info.id)
    assert qstore.get("w", info.id).finished_at == finished
