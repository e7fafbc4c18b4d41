"""``ddq monitor``: probe health endpoints on an interval and keep score.

For each URL it records up or down (HTTP 2xx within the timeout), the latency, and the
uptime percentage since it started; it logs every change of state as one JSON line with a
timestamp, and serves the figures as Prometheus metrics (``--metrics-port``), so an outage
that the service itself cannot report (it is down) is still on a graph and can alert.

The Prometheus-native alternative is the blackbox exporter probing ``/readyz`` (the
``DDQNotReady`` alert expects its ``probe_success``); this command needs nothing installed.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TextIO

import httpx
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass
class TargetState:
    url: str
    up: bool | None = None
    since: str | None = None
    probes: int = 0
    successes: int = 0
    last_latency_s: float | None = None
    last_error: str | None = None
    changes: list[dict[str, object]] = field(default_factory=list)

    @property
    def uptime(self) -> float:
        return self.successes / self.probes if self.probes else 0.0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Monitor:
    def __init__(self, urls: Sequence[str], *, timeout_s: float = 2.0,
                 log: TextIO | None = None) -> None:
        self.targets = {url: TargetState(url) for url in urls}
        self.timeout_s = timeout_s
        self.log = log or sys.stdout
        self.registry = CollectorRegistry(auto_describe=False)
        self.up = Gauge("ddq_monitor_up", "1 if the last probe succeeded.", ["target"],
                        registry=self.registry)
        self.uptime = Gauge("ddq_monitor_uptime_ratio", "Share of probes that succeeded "
                            "since the monitor started.", ["target"], registry=self.registry)
        self.probes = Counter("ddq_monitor_probes", "Probes, by result (up, down).",
                              ["target", "result"], registry=self.registry)
        self.latency = Histogram("ddq_monitor_probe_duration_seconds", "Probe latency.",
                                 ["target"], registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
        self._client = httpx.Client(timeout=timeout_s)

    def probe_all(self) -> None:
        for state in self.targets.values():
            self.probe(state)

    def probe(self, state: TargetState) -> None:
        started = time.perf_counter()
        error = None
        try:
            response = self._client.get(state.url)
            ok = 200 <= response.status_code < 300
            if not ok:
                error = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            ok = False
            error = type(exc).__name__
        latency = time.perf_counter() - started
        state.probes += 1
        state.successes += int(ok)
        state.last_latency_s = latency
        state.last_error = error
        self.probes.labels(state.url, "up" if ok else "down").inc()
        self.up.labels(state.url).set(int(ok))
        self.uptime.labels(state.url).set(state.uptime)
        if ok:
            self.latency.labels(state.url).observe(latency)
        if state.up is not ok:
            event: dict[str, object] = {
                "at": _now(), "target": state.url, "state": "up" if ok else "down",
                "previous": None if state.up is None else ("up" if state.up else "down"),
                "latency_ms": round(latency * 1000, 1), "error": error,
                "uptime": round(state.uptime, 4)}
            state.up = ok
            state.since = str(event["at"])
            state.changes.append(event)
            self.log.write(json.dumps(event) + "\n")
            self.log.flush()

    def run(self, interval_s: float, stop: threading.Event,
            count: int | None = None, on_round: Callable[[], None] | None = None) -> None:
        rounds = 0
        while not stop.is_set():
            self.probe_all()
            rounds += 1
            if on_round is not None:
                on_round()
            if count is not None and rounds >= count:
                break
            stop.wait(interval_s)

    def summary(self) -> list[dict[str, object]]:
        return [{"target": s.url, "up": s.up, "since": s.since, "probes": s.probes,
                 "uptime": round(s.uptime, 4), "changes": s.changes}
                for s in self.targets.values()]
