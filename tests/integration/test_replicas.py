"""Two `ddq serve` processes (two replicas: each its own data directory) on one PostgreSQL
database and one Milvus server (a real `milvus-lite server` process, by URI) agree: what is
ingested or removed through one is found, or no longer found, through the other within 2 s,
by keyword and by vector, and a questionnaire job started through one shows its progress
through the other, no question drafted twice. With the per-process bm25s keyword index the
replicas agree within 2 s too: each compares its copy with the store every second."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ddq.store.questionnaires import QuestionnaireStore
from support.milvus_servers import run_milvus_lite_server
from support.service import free_port

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

AGREE_S = 2.0


class Replica:
    def __init__(self, url: str, key: str, process: subprocess.Popen[bytes]) -> None:
        self.url, self.key, self.process = url, key, process

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(
            method,
            f"{self.url}{path}",
            timeout=60,
            headers={"Authorization": f"Bearer {self.key}"},
            **kwargs,
        )
        assert response.status_code < 300, (path, response.status_code, response.text)
        return response.json()

    def search(self, question: str) -> list[dict[str, Any]]:
        return list(self.call("POST", "/api/search", json={"question": question}))


@pytest.fixture
def milvus_uri(tmp_path: Path) -> Iterator[str]:
    with run_milvus_lite_server(tmp_path / "milvus") as uri:
        yield uri


def _start_replicas(
    tmp_path: Path, database_url: str, milvus_uri: str, keyword_index: str
) -> tuple[list[Replica], list[subprocess.Popen[bytes]]]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("DDQ_")}
    base.update(
        {
            "DDQ_EMBEDDER": "fake:hashing-64",
            "DDQ_DATABASE_URL": database_url,
            "DDQ_MILVUS_URI": milvus_uri,
            "DDQ_KEYWORD_INDEX": keyword_index,
            "DDQ_ANSWER_BATCH_SIZE": "2",
            "NO_COLOR": "1",
        }
    )
    first_home = tmp_path / "replica-0"
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "ddq.cli",
            "keys",
            "create",
            "--name",
            "ops",
            "--role",
            "admin",
            "--json",
        ],
        env={**base, "DDQ_HOME": str(first_home)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)["key"]
    processes: list[subprocess.Popen[bytes]] = []
    replicas: list[Replica] = []
    for n in range(2):
        port = free_port()
        log = (tmp_path / f"replica-{n}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "ddq.cli", "serve", "--port", str(port)],
            env={**base, "DDQ_HOME": str(tmp_path / f"replica-{n}")},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        replicas.append(Replica(f"http://127.0.0.1:{port}", key, process))
    for n, replica in enumerate(replicas):
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{replica.url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if replica.process.poll() is not None or time.monotonic() > deadline:
                output = (tmp_path / f"replica-{n}.log").read_text(errors="replace")
                pytest.fail(f"replica {n} did not become ready:\n{output[-3000:]}")
            time.sleep(0.2)
    return replicas, processes


@pytest.fixture
def start_replicas(
    tmp_path: Path, empty_pg_url: str, milvus_uri: str
) -> Iterator[Callable[[str], list[Replica]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(keyword_index: str) -> list[Replica]:
        replicas, processes = _start_replicas(tmp_path, empty_pg_url, milvus_uri, keyword_index)
        started.extend(processes)
        return replicas

    yield start
    for process in started:
        process.terminate()
    for process in started:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _within(seconds: float, check: Callable[[], bool]) -> float:
    """Seconds until ``check()`` holds; fails past ``seconds``."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, f"not within {seconds} s"
        time.sleep(0.05)
    return time.monotonic() - started


def _keyword_ranks(replica: Replica, question: str, name: str) -> list[int | None]:
    return [h["keyword_rank"] for h in replica.search(question) if h["source"] == name]


def _dense_ranks(replica: Replica, question: str, name: str) -> list[int | None]:
    return [h["dense_rank"] for h in replica.search(question) if h["source"] == name]


def _ingest_and_remove_agree(first: Replica, second: Replica) -> None:
    other = b"# Backups\n\nBackups are encrypted and kept for 35 days.\n"
    first.call("POST", "/api/documents", files=[("files", ("backup.md", other))])
    assert not _keyword_ranks(second, "zqxvault", "keys.md")
    text = b"# Keys\n\nCustomer keys live in the zqxvault and rotate every 90 days.\n"
    [uploaded] = first.call("POST", "/api/documents", files=[("files", ("keys.md", text))])
    assert uploaded["outcome"] == "added", uploaded
    _within(AGREE_S, lambda: _keyword_ranks(second, "zqxvault", "keys.md") == [1])
    _within(
        AGREE_S, lambda: _dense_ranks(second, "customer keys zqxvault rotate", "keys.md")[:1] == [1]
    )
    [document] = [d for d in second.call("GET", "/api/documents") if d["name"] == "keys.md"]
    first.call("DELETE", f"/api/documents/{document['id']}")
    _within(
        AGREE_S,
        lambda: (
            not _keyword_ranks(second, "zqxvault", "keys.md")
            and not _dense_ranks(second, "customer keys zqxvault rotate", "keys.md")
        ),
    )
    assert _keyword_ranks(second, "backups encrypted", "backup.md")[:1] == [1]


def test_two_replicas_on_one_database_and_one_milvus_agree(
    start_replicas: Callable[[str], list[Replica]], empty_pg_url: str, tmp_path: Path
) -> None:
    first, second = start_replicas("milvus")
    _ingest_and_remove_agree(first, second)
    # Neither replica keeps a keyword index of its own: Milvus holds the one they share.
    assert not (tmp_path / "replica-0" / "keyword" / "default").exists()
    assert not (tmp_path / "replica-1" / "keyword" / "default").exists()

    rows = [f"Q{i},How are customer keys handled? (topic {i})" for i in range(8)]
    form = ("ID,Question,Answer\n" + "\n".join(rows) + "\n").encode()
    created = first.call(
        "POST", "/api/questionnaires?start=true", files={"file": ("form.csv", form, "text/csv")}
    )
    job = created["id"]
    seen: list[int] = []

    def done() -> bool:
        state = second.call("GET", f"/api/questionnaires/{job}")
        seen.append(state["progress"]["drafted"])
        return bool(state["state"] == "done")

    _within(120, done)
    assert seen[-1] == 8 and seen == sorted(seen)  # progress, read through the other one
    from ddq.store.db import open_engine

    engine = open_engine(empty_pg_url)
    try:
        counts = QuestionnaireStore(engine).draft_counts(job)
    finally:
        engine.dispose()
    assert len(counts) == 8 and set(counts.values()) == {1}  # no question drafted twice


def test_two_replicas_with_per_process_bm25s_agree_within_two_seconds(
    start_replicas: Callable[[str], list[Replica]], tmp_path: Path
) -> None:
    first, second = start_replicas("bm25s")
    _ingest_and_remove_agree(first, second)
    # Each replica has its own copy, brought up to the store by its own check.
    assert (tmp_path / "replica-1" / "keyword" / "default").is_dir()
