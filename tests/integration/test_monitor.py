"""`ddq monitor` against a real service that is stopped and started again: it records the
outage and the recovery with timestamps, and its metrics show uptime below 100%."""

from __future__ import annotations

import io
import json
import threading
import time
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from ddq.api.app import create_app
from ddq.config import Settings
from ddq.kb import KnowledgeBase
from ddq.monitor import Monitor
from support.service import free_port, serve

pytestmark = pytest.mark.integration


def test_an_outage_and_the_recovery_are_recorded(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", embedder="fake:hashing-64")
    port = free_port()
    url = f"http://127.0.0.1:{port}/livez"
    log = io.StringIO()
    watcher = Monitor([url], timeout_s=1.0, log=log)
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(0.1, stop), daemon=True)

    def wait_for(state: str) -> None:
        deadline = time.monotonic() + 20
        while watcher.targets[url].up is not (state == "up"):
            assert time.monotonic() < deadline, f"never {state}: {log.getvalue()}"
            time.sleep(0.05)

    kb = KnowledgeBase(settings)
    try:
        with serve(create_app(settings, kb=kb, run_jobs=False), port=port):
            thread.start()
            wait_for("up")
            time.sleep(0.3)
        wait_for("down")  # the service stopped
        time.sleep(0.3)
        with serve(create_app(settings, kb=kb, run_jobs=False), port=port):
            wait_for("up")
            time.sleep(0.2)
            stop.set()
            thread.join(timeout=5)
    finally:
        stop.set()
        thread.join(timeout=5)
        kb.close()
    events = [json.loads(line) for line in log.getvalue().splitlines()]
    assert [e["state"] for e in events] == ["up", "down", "up"]
    assert events[1]["previous"] == "up" and events[1]["error"]
    moments = [e["at"] for e in events]
    assert moments == sorted(moments) and all(m.endswith("+00:00") for m in moments)
    state = watcher.targets[url]
    assert 0 < state.uptime < 1
    metrics = generate_latest(watcher.registry).decode()
    ratio = next(float(line.split()[-1]) for line in metrics.splitlines()
                 if line.startswith("ddq_monitor_uptime_ratio{"))
    assert 0 < ratio < 1
    assert f'ddq_monitor_probes_total{{result="down",target="{url}"}}' in metrics
