"""Answering a questionnaire as a resumable job.

The job is its rows in the store (see :mod:`ddq.store.questionnaires`): the first run
stores the questionnaire and every extracted question; each run then answers the questions
that have no draft yet, in batches (one embedding call and one index search per batch), and
commits each draft as soon as it is made. A run killed at any point loses at most the batch
in flight; running the same command again picks up where it stopped, and a question is
never answered twice (the store's unique key says so, not the job).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from ddq.answer.text import is_yes_no_question
from ddq.domain import Answer
from ddq.errors import DDQError, ErrorCode
from ddq.forms import Extraction, ExtractOptions
from ddq.jobs.fit import fit_answer
from ddq.kb import KnowledgeBase
from ddq.metrics import JOB_QUESTIONS
from ddq.questionnaire.files import extract, file_sha256
from ddq.store.questionnaires import (
    JobProgress,
    NewDraft,
    QuestionnaireInfo,
    QuestionnaireStore,
    QuestionRecord,
)


class JobProgressSink(Protocol):
    def start(self, total: int, done: int) -> None: ...
    def advance(self, count: int) -> None: ...
    def finish(self) -> None: ...


@dataclass(frozen=True, slots=True)
class JobResult:
    questionnaire: QuestionnaireInfo
    progress: JobProgress
    #: Questions answered by this run (the rest were done by an earlier one).
    answered_now: int
    resumed: bool
    seconds: float
    #: Drafts of this run by who drafted them ("extractive", a model id, or a fallback).
    drafters: dict[str, int] = field(default_factory=dict)


def job_key(source_hash: str, options: ExtractOptions) -> str:
    payload = json.dumps({"file": source_hash, "options": options.to_json()}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def fill_for(question: QuestionRecord, answer: Answer) -> dict[str, str]:
    """The values for a drafted answer, by answer place. The reader gave each place its kind
    and values (a Yes/No column without a dropdown takes Yes/No/N/A); an answer place beside
    a notes place also takes the verdict of a yes/no question, the text going to the notes."""
    verdict_column = question.notes_target is not None and is_yes_no_question(question.text)
    return fit_answer(answer, question.answer_target, question.notes_target,
                      yes_no_column=verdict_column)


#: Questions embedded ahead of their batches, in one model call: about this many (a whole
#: number of batches). Batches of 32 embedded one call each ran at ~60% of the speed of
#: 256 in one call (500 SciFact questions, 2 cores); a window bounds what a stopped job
#: embedded in vain.
_EMBED_AHEAD = 256


class QuestionnaireJob:
    def __init__(self, kb: KnowledgeBase, *, batch_size: int = 32) -> None:
        if batch_size < 1:
            raise DDQError(ErrorCode.INVALID_INPUT, "the batch size must be at least 1")
        self.kb = kb
        self.store = QuestionnaireStore(kb.store.engine)
        self.batch_size = batch_size

    def open(self, path: Path, options: ExtractOptions | None = None,
             extraction: Extraction | None = None, *, restart: bool = False
             ) -> tuple[QuestionnaireInfo, bool]:
        """The job for this file and these options: (info, created). Extracts only when the
        job is new, so resuming does not depend on re-reading the file the same way.
        ``restart`` drops an existing job first (after new knowledge was ingested, say)."""
        options = options or ExtractOptions()
        source_hash = file_sha256(path)
        key = job_key(source_hash, options)
        found = self.store.find(self.kb.workspace, key)
        if found is not None and restart:
            self.store.delete(found.id)
            found = None
        if found is not None:
            return found, False
        self._require_knowledge()
        extraction = extraction or extract(path, options, self.kb.settings.package_limits)
        return self.store.create(
            workspace=self.kb.workspace, job_key=key, name=path.name,
            source_path=str(path.resolve()), source_hash=source_hash,
            format=extraction.format.value, options=options.to_json(),
            layout=extraction.layout, questions=extraction.questions,
        )

    def run(self, info: QuestionnaireInfo, progress: JobProgressSink | None = None,
            should_stop: Callable[[], bool] | None = None) -> JobResult:
        """Draft every question that has no draft yet, batch by batch. ``should_stop`` is
        asked before each batch (a paused or shut-down service job stops there)."""
        pending = self.store.pending(info.id)
        if pending:
            self._require_knowledge()
            self.kb.embedder.embed(["warm up"])  # load the model before the clock starts
        started = time.perf_counter()
        before = self.store.progress(info.id)
        if progress is not None:
            progress.start(before.total, before.done)
        answered = 0
        drafters: Counter[str] = Counter()
        window = self.batch_size * max(1, _EMBED_AHEAD // self.batch_size)
        ahead: np.ndarray | None = None
        for start in range(0, len(pending), self.batch_size):
            if should_stop is not None and should_stop():
                break
            batch = pending[start : start + self.batch_size]
            if start % window == 0:
                # The questions of the next batches in one model call: long length-sorted
                # runs instead of one short run per batch; drafts are still saved per batch.
                ahead = self.kb.retriever.embed_questions(
                    [q.text for q in pending[start : start + window]])
            assert ahead is not None
            offset = start % window
            answers = self.answer_batch([q.text for q in batch],
                                        ahead[offset : offset + len(batch)])
            saved = self.store.save_drafts([
                NewDraft(question.id, answer, fill_for(question, answer),
                         answer.drafted_by)
                for question, answer in zip(batch, answers, strict=True)])
            for answer, new in zip(answers, saved, strict=True):
                if new:
                    answered += 1
                    JOB_QUESTIONS.inc()
                    fallback = answer.drafted_by.startswith("extractive (fallback")
                    drafters["extractive (fallback)" if fallback else answer.drafted_by] += 1
            if progress is not None:
                progress.advance(len(batch))
        after = self.store.progress(info.id)
        if after.remaining == 0:
            self.store.finish(info.id)
        if progress is not None:
            progress.finish()
        return JobResult(self.store.get(self.kb.workspace, info.id), after, answered,
                         resumed=before.done > 0, seconds=time.perf_counter() - started,
                         drafters=dict(drafters))

    def _require_knowledge(self) -> None:
        if self.kb.store.counts(self.kb.workspace).chunks == 0:
            raise DDQError(ErrorCode.NOT_FOUND,
                           f"the knowledge base of workspace {self.kb.workspace!r} is empty; "
                           "ingest your policies and answer library with `ddq ingest` first")

    def answer_batch(self, questions: list[str], vectors: np.ndarray | None = None
                     ) -> list[Answer]:
        """Draft answers to ``questions`` (their vectors, when embedded ahead)."""
        return self.kb.draft(self.kb.retriever.retrieve_many(questions, vectors=vectors))
