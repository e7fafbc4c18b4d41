"""Claiming service jobs, on SQLite and on a real PostgreSQL database: of several workers
racing for one queued job exactly one gets it; a paused job stops its worker's heartbeat; a
job whose worker died is claimed again once its heartbeat is stale."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Engine, update

from ddq.store.review import JobState, ReviewStore
from ddq.store.schema import QuestionnaireRow, utcnow

pytestmark = pytest.mark.integration


def queued_job(engine: Engine, name: str = "q.xlsx") -> int:
    from sqlalchemy.orm import Session

    with Session(engine) as session, session.begin():
        row = QuestionnaireRow(workspace="w", job_key=name, name=name, source_path="/x",
                               source_hash="h", format="xlsx", options={}, layout={},
                               question_count=1, created_at=utcnow(),
                               state=JobState.QUEUED.value)
        session.add(row)
        session.flush()
        return int(row.id)


def test_one_of_many_racing_workers_claims_a_job(engine: Engine) -> None:
    job = queued_job(engine)
    store = ReviewStore(engine)
    winners: list[str] = []
    barrier = threading.Barrier(6)

    def worker(name: str) -> None:
        barrier.wait()
        for _ in range(5):
            if store.claim(name, stale_after_s=60) is not None:
                winners.append(name)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    status = store.job(job)
    assert (status.state, status.claimed_by) == (JobState.RUNNING, winners[0])


def test_pause_stops_the_heartbeat_and_release_respects_it(engine: Engine) -> None:
    job = queued_job(engine)
    store = ReviewStore(engine)
    assert store.claim("a", stale_after_s=60) == (job, "w")
    assert store.heartbeat(job, "a")
    assert not store.heartbeat(job, "b")  # not b's job
    assert store.set_state(job, JobState.PAUSED, allowed_from={JobState.RUNNING}, actor="t")
    assert not store.heartbeat(job, "a")  # the worker learns it must stop
    assert not store.release(job, "a", JobState.DONE)  # and cannot overwrite the pause
    assert store.job(job).state is JobState.PAUSED
    assert store.claim("a", stale_after_s=60) is None  # paused jobs are not claimed


def test_a_dead_workers_job_is_claimed_again_when_stale(engine: Engine) -> None:
    job = queued_job(engine)
    store = ReviewStore(engine)
    assert store.claim("dead", stale_after_s=60) is not None
    assert store.claim("alive", stale_after_s=60) is None  # its heartbeat is fresh
    with engine.begin() as connection:  # the dead worker's last beat, long ago
        connection.execute(update(QuestionnaireRow).where(QuestionnaireRow.id == job)
                           .values(heartbeat_at=utcnow().replace(year=2020)))
    time.sleep(0.01)
    assert store.claim("alive", stale_after_s=60) == (job, "w")
    assert store.job(job).claimed_by == "alive"
    assert not store.release(job, "dead", JobState.DONE)  # the dead one lost it
    assert store.release(job, "alive", JobState.DONE)
    assert store.job(job).state is JobState.DONE
