"""The service's job worker: a thread that claims queued questionnaires and answers them.

Progress lives in the database only (a draft is committed per question), so a job survives a
restart of the service: a clean shutdown puts the running job back in the queue, and a job
whose process died is claimed again once its heartbeat is stale. Several service processes
sharing one database never run the same job twice (see :mod:`ddq.store.review`).

A database that fails for a moment (a failover ends every connection, a statement times out
on a lock) does not fail the job: the worker waits (backing off, up to ``retry_cap_s``) and
runs it again from its stored drafts, keeping its claim; a worker told to stop meanwhile puts
the job back in the queue. Only after ``max_retries`` failures in a row without one new draft
between them, or on an error that is not the database's, does the job fail, with a message
for people as its status; the driver's text goes to the log.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid

from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ddq import tracing
from ddq.errors import DDQError
from ddq.jobs.job import QuestionnaireJob
from ddq.kb import KnowledgeBase
from ddq.logs import JOB_ID
from ddq.metrics import JOB_RUNS
from ddq.store.questionnaires import QuestionnaireStore
from ddq.store.review import JobState, ReviewStore

log = logging.getLogger(__name__)


def is_transient(exc: BaseException) -> bool:
    """A failure of the database's that may pass by itself (a lost connection, a server
    shutting down or starting, a statement timed out, no connection free in the pool):
    anywhere in the chain of causes, so a store error wrapping one counts too."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, OperationalError | InterfaceError | DisconnectionError
                      | PoolTimeout):
            return True
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _from_database(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, SQLAlchemyError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def status_text(exc: BaseException, job_id: int) -> str:
    """What a failed job's status says: a DDQ error's own line, otherwise where to look. A
    store error wrapping the driver's (its text holds statements and hosts) is the
    database's failure, said for people."""
    if _from_database(exc):
        return ("the database kept failing while this job ran (details in the service log); "
                "start the job again once the database is back: it resumes where it stopped")
    if isinstance(exc, DDQError):
        return exc.detail[:2000]
    return (f"an internal error stopped this job ({type(exc).__name__}; details in the "
            f"service log under job {job_id}); start it again to resume where it stopped")


class JobWorker:
    def __init__(self, kb: KnowledgeBase, *, poll_s: float = 0.5, stale_after_s: float = 60.0,
                 write_lock: threading.Lock | None = None, retry_base_s: float = 0.5,
                 retry_cap_s: float = 30.0, max_retries: int = 10) -> None:
        self.kb = kb
        self.poll_s = poll_s
        self.stale_after_s = stale_after_s
        self.retry_base_s = retry_base_s
        self.retry_cap_s = retry_cap_s
        self.max_retries = max_retries
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
            except Exception as exc:  # a database hiccup must not kill the worker
                if is_transient(exc):  # one line per poll while it lasts, not a traceback
                    log.warning("claiming a job failed: %s", str(exc).splitlines()[0][:300])
                else:
                    log.exception("claiming a job failed")
                claimed = None
            if claimed is None:
                self._wake.wait(self.poll_s)
                self._wake.clear()
                continue
            try:
                self._run(*claimed)
            except Exception:  # nothing a job does may end the worker
                log.exception("job %s ended the worker's turn with an error", claimed[0])

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

        failures = 0
        drafted = -1
        while True:
            try:
                info = self.jobs.get(workspace, questionnaire_id)
                job = QuestionnaireJob(kb, batch_size=kb.settings.answer_batch_size)
                result = job.run(info, should_stop=should_stop)
                break
            except Exception as exc:
                if not is_transient(exc):
                    self._fail(questionnaire_id, exc)
                    return
                now_drafted = self._drafted(questionnaire_id)
                if now_drafted is not None and now_drafted > drafted:
                    failures = 0  # it got further since the last failure: a new blip
                    drafted = now_drafted
                failures += 1
                if failures > self.max_retries:
                    self._fail(questionnaire_id, exc)
                    return
                wait_s = min(self.retry_cap_s, self.retry_base_s * 2 ** (failures - 1))
                log.warning("job hit a transient database error; retrying",
                            extra={"attempt": failures, "wait_s": wait_s,
                                   "error": str(exc).splitlines()[0][:300]})
                if self._stop.wait(wait_s):
                    self._release_quietly(questionnaire_id, JobState.QUEUED)
                    JOB_RUNS.labels("requeued").inc()
                    return
                last_beat[0] = float("-inf")  # still ours? the next check beats at once
        if result.progress.remaining == 0:
            self._release_quietly(questionnaire_id, JobState.DONE)
            outcome = "done"
        elif self._stop.is_set():
            self._release_quietly(questionnaire_id, JobState.QUEUED)
            outcome = "requeued"
        else:
            outcome = "paused"
        JOB_RUNS.labels(outcome).inc()
        log.info("job run ended", extra={"result": outcome, "drafted": result.answered_now,
                                         "seconds": round(result.seconds, 3)})
        # Otherwise it was paused (or claimed by another worker): leave its state alone.

    def _drafted(self, questionnaire_id: int) -> int | None:
        """Drafts stored so far; None while the database cannot say."""
        try:
            return self.jobs.progress(questionnaire_id).done
        except Exception:
            return None

    def _fail(self, questionnaire_id: int, exc: BaseException) -> None:
        log.error("job failed", exc_info=exc)
        self._release_quietly(questionnaire_id, JobState.FAILED,
                              status_text(exc, questionnaire_id))
        JOB_RUNS.labels("failed").inc()

    def _release_quietly(self, questionnaire_id: int, state: JobState,
                         error: str | None = None) -> None:
        """Release the claim; if the database cannot take it, the claim's heartbeat goes
        stale and the job is claimed again (and resumed) once it is back."""
        try:
            self.reviews.release(questionnaire_id, self.name, state, error=error)
        except Exception:
            log.exception("releasing job %s as %s failed", questionnaire_id, state.value)
