"""The service's job worker: a thread that claims queued questionnaires and answers them.

Progress lives in the database only (a draft is committed per question), so a job survives a
restart of the service: a clean shutdown puts the running job back in the queue, and a job
whose process died is claimed again once its heartbeat is stale. Several service processes
sharing one database never run the same job twice (see :mod:`ddq.store.review`).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid

from ddq import tracing
from ddq.jobs.job import QuestionnaireJob
from ddq.kb import KnowledgeBase
from ddq.logs import JOB_ID
from ddq.metrics import JOB_RUNS
from ddq.store.questionnaires import QuestionnaireStore
from ddq.store.review import JobState, ReviewStore

log = logging.getLogger(__name__)


class JobWorker:
    def __init__(self, kb: KnowledgeBase, *, poll_s: float = 0.5, stale_after_s: float = 60.0,
                 write_lock: threading.Lock | None = None) -> None:
        self.kb = kb
        self.poll_s = poll_s
        self.stale_after_s = stale_after_s
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.reviews = ReviewStore(kb.store.engine)
        self.jobs = QuestionnaireStore(kb.store.engine)
        self.write_lock = write_lock or threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ddq-jobs", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        """A job was queued: look now instead of at the next poll."""
        self._wake.set()

    def stop(self, timeout_s: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=timeout_s)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                claimed = self.reviews.claim(self.name, stale_after_s=self.stale_after_s)
            except Exception:  # a database hiccup must not kill the worker
                log.exception("claiming a job failed")
                claimed = None
            if claimed is None:
                self._wake.wait(self.poll_s)
                self._wake.clear()
                continue
            self._run(*claimed)

    def _run(self, questionnaire_id: int, workspace: str) -> None:
        token = JOB_ID.set(questionnaire_id)
        try:
            log.info("job claimed", extra={"worker": self.name})
            with tracing.span("job.run", {"ddq.job_id": questionnaire_id,
                                          "ddq.worker": self.name}):
                self._run_claimed(questionnaire_id, workspace)
        finally:
            JOB_ID.reset(token)

    def _run_claimed(self, questionnaire_id: int, workspace: str) -> None:
        kb = self.kb.scoped(workspace)
        last_beat = [time.monotonic()]

        def should_stop() -> bool:
            if self._stop.is_set():
                return True
            now = time.monotonic()
            if now - last_beat[0] >= 1.0:
                last_beat[0] = now
                # False when paused (or taken over): stop after the batch in flight.
                return not self.reviews.heartbeat(questionnaire_id, self.name)
            return self.reviews.job(questionnaire_id).state is not JobState.RUNNING

        try:
            info = self.jobs.get(workspace, questionnaire_id)
            job = QuestionnaireJob(kb, batch_size=kb.settings.answer_batch_size)
            result = job.run(info, should_stop=should_stop)
        except Exception as exc:
            log.exception("job failed")
            self.reviews.release(questionnaire_id, self.name, JobState.FAILED,
                                 error=str(exc)[:2000])
            JOB_RUNS.labels("failed").inc()
            return
        if result.progress.remaining == 0:
            self.reviews.release(questionnaire_id, self.name, JobState.DONE)
            outcome = "done"
        elif self._stop.is_set():
            self.reviews.release(questionnaire_id, self.name, JobState.QUEUED)
            outcome = "requeued"
        else:
            outcome = "paused"
        JOB_RUNS.labels(outcome).inc()
        log.info("job run ended", extra={"result": outcome, "drafted": result.answered_now,
                                         "seconds": round(result.seconds, 3)})
        # Otherwise it was paused (or claimed by another worker): leave its state alone.
