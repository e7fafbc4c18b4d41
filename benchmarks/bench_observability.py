"""What metrics and logging cost on `ask`, in one run.

The service (the real app under uvicorn, in this process, DDQ's default model, the sample knowledge
base) answers the same questions over HTTP with metrics and JSON logging on, and with both
off (``ddq.metrics.ENABLED = False`` skips every recording and the request middleware; the
log level is raised so no line is formatted), alternating in rounds. Target: the overhead is
under 5% of request time.

    .venv/bin/python benchmarks/bench_observability.py [--rounds 5] [--questions 40]
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from _common import REPO_ROOT, bench_settings, environment, median, run_benchmark, table
from ddq import metrics
from ddq.api.app import create_app
from ddq.config import Settings
from ddq.kb import KnowledgeBase
from ddq.logs import configure_logging
from ddq.store.keys import KeyStore, Role

sys.path.insert(0, str(REPO_ROOT / "tests"))
from support.service import serve

QUESTIONS = [
    "Is customer data encrypted at rest?", "How often are access reviews performed?",
    "Do you have an incident response plan?", "How long are backups retained?",
    "Is multi-factor authentication required for administrators?",
    "Do you perform annual penetration tests?", "How quickly are customers notified?",
    "Which encryption algorithm protects data in transit?",
]


def run(args: argparse.Namespace) -> dict[str, Any]:
    sink = io.StringIO()
    configure_logging(json_format=True, stream=sink)
    with tempfile.TemporaryDirectory(prefix="ddq-obs-") as tmp:
        settings = bench_settings(Path(tmp) / "home", workspace="default").model_copy(
            update={"embedder": args.embedder})
        kb = KnowledgeBase(settings)
        kb.ingest_paths([REPO_ROOT / "examples" / "knowledge"])
        key = KeyStore(kb.store.engine).create(workspace="default", name="b",
                                               role=Role.VIEWER)[1]
        questions = [QUESTIONS[i % len(QUESTIONS)] for i in range(args.questions)]
        times: dict[str, list[float]] = {"on": [], "off": []}
        try:
            with serve(create_app(settings, kb=kb, run_jobs=False)) as url:
                client = httpx.Client(base_url=url, timeout=60,
                                      headers={"Authorization": f"Bearer {key}"})
                for q in questions:  # warm: model loaded, caches filled
                    client.post("/api/ask", json={"question": q})
                for _ in range(args.rounds):
                    for state in ("on", "off"):
                        metrics.ENABLED = state == "on"
                        logging.getLogger().setLevel(logging.INFO if state == "on"
                                                     else logging.WARNING)
                        started = time.perf_counter()
                        for q in questions:
                            assert client.post("/api/ask", json={"question": q}).is_success
                        times[state].append((time.perf_counter() - started) / len(questions))
        finally:
            metrics.ENABLED = True
            kb.close()
    on, off = median(times["on"]), median(times["off"])
    overhead = (on - off) / off
    return {"environment": environment(), "rounds": args.rounds, "questions": len(questions),
            "per_request_s": times, "median_on_s": on, "median_off_s": off,
            "overhead": overhead, "log_lines": len(sink.getvalue().splitlines()),
            "summary": {"meets_target": overhead < 0.05}}


def render(result: dict[str, Any]) -> str:
    rows = [["metrics + JSON logs on", result["median_on_s"] * 1000,
             min(result["per_request_s"]["on"]) * 1000, max(result["per_request_s"]["on"]) * 1000],
            ["both off", result["median_off_s"] * 1000,
             min(result["per_request_s"]["off"]) * 1000,
             max(result["per_request_s"]["off"]) * 1000]]
    return (table(["ask over HTTP", "median ms", "min ms", "max ms"], rows)
            + f"\noverhead {result['overhead'] * 100:+.1f}% (target < 5%)")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--embedder", default=Settings().embedder,
                        help="embedding model (default: DDQ's default)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--output", type=Path)
    parser.add_argument("--strict", action="store_true")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    return run_benchmark("bench_observability", parse_args(argv), run, render)


if __name__ == "__main__":
    sys.exit(main())
