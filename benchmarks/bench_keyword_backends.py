"""One-question hybrid retrieval with either keyword index, on one SciFact index.

The question: *what does the Milvus BM25 keyword index (DDQ_KEYWORD_INDEX=milvus, shared by
every replica) cost per question against the per-process bm25s index?*

It reads a home built by ``ddq eval beir ../shared/data/scifact --home DIR`` (workspace
``eval``: the full corpus, 11,230 chunks, the default embedder), so no corpus is embedded
here. For each backend in turn (alternating, ``--repeats`` rounds, the order swapped every
round): open the knowledge base with that keyword index (the first use brings it up to the
store: bm25s from its files, Milvus from its collection), one warm-up question, then
``kb.retrieve(q)`` for each judged test query one at a time (embedding, Milvus dense search,
the keyword search, fusion, store reads: what ``/api/search`` does), and the keyword search
alone for the same queries. The verdict figures are medians over rounds of each round's p50.

    .venv/bin/ddq eval beir ../shared/data/scifact --home /tmp/ddq-beir   # once, ~25 min
    DDQ_KEYWORD_INDEX=milvus .venv/bin/ddq eval beir ../shared/data/scifact --home /tmp/ddq-beir
    .venv/bin/python benchmarks/bench_keyword_backends.py --home /tmp/ddq-beir --repeats 3
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _common import (
    DEFAULT_DATA_DIR,
    environment,
    judged_queries,
    latency_summary,
    load_average,
    median,
    run_benchmark,
    scifact_paths,
    table,
    warn_if_busy,
)
from ddq.config import load_settings
from ddq.kb import KnowledgeBase

BACKENDS = ("bm25s", "milvus")


def _round(home: Path, backend: str, questions: list[str]) -> dict[str, Any]:
    settings = load_settings().model_copy(
        update={
            "home": home,
            "database_url": None,
            "milvus_uri": None,
            "workspace": "eval",
            "keyword_index": backend,
        }
    )
    with KnowledgeBase(settings) as kb:
        started = time.perf_counter()
        kb.retrieve(questions[0])  # warm-up: model, collections, the keyword index
        warm_s = time.perf_counter() - started
        index = kb.keyword_index
        retrieve, keyword = [], []
        for question in questions:
            t0 = time.perf_counter()
            kb.retrieve(question)
            retrieve.append(time.perf_counter() - t0)
        queries = kb.retriever.keyword_queries(questions)
        for query in queries:
            t0 = time.perf_counter()
            index.search([query], kb.settings.candidate_k)
            keyword.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        index.search(queries, kb.settings.candidate_k)
        batch = (time.perf_counter() - t0) / len(queries)
        return {
            "backend": backend,
            "chunks": index.size,
            "warm_up_s": warm_s,
            "retrieve": latency_summary(retrieve),
            "keyword": latency_summary(keyword),
            "keyword_batch_per_question_ms": batch * 1000,
        }


def run(args: argparse.Namespace) -> dict[str, Any]:
    warn_if_busy()
    load_before = load_average()
    questions = [text for _, text in judged_queries(scifact_paths(args.data), args.queries)]
    rounds: list[dict[str, Any]] = []
    for number in range(args.repeats):
        order = BACKENDS if number % 2 == 0 else BACKENDS[::-1]
        for backend in order:
            rounds.append(_round(args.home, backend, questions))
            print(
                f"round {number + 1} {backend}: retrieve p50 "
                f"{rounds[-1]['retrieve']['p50_ms']:.1f} ms",
                flush=True,
            )
    summary: dict[str, Any] = {}
    for backend in BACKENDS:
        mine = [r for r in rounds if r["backend"] == backend]
        summary[backend] = {
            "retrieve_p50_ms": median([r["retrieve"]["p50_ms"] for r in mine]),
            "retrieve_p95_ms": median([r["retrieve"]["p95_ms"] for r in mine]),
            "keyword_p50_ms": median([r["keyword"]["p50_ms"] for r in mine]),
            "keyword_p95_ms": median([r["keyword"]["p95_ms"] for r in mine]),
            "keyword_batch_per_question_ms": median(
                [r["keyword_batch_per_question_ms"] for r in mine]
            ),
            "chunks": mine[0]["chunks"],
        }
    summary["meets_target"] = True
    return {
        "home": str(args.home),
        "queries": len(questions),
        "repeats": args.repeats,
        "environment": environment(),
        "load_before": load_before,
        "load_after": load_average(),
        "rounds": rounds,
        "summary": summary,
    }


def render(result: dict[str, Any]) -> str:
    rows = [
        [
            b,
            s["chunks"],
            s["retrieve_p50_ms"],
            s["retrieve_p95_ms"],
            s["keyword_p50_ms"],
            s["keyword_p95_ms"],
            s["keyword_batch_per_question_ms"],
        ]
        for b, s in result["summary"].items()
        if b in BACKENDS
    ]
    return table(
        [
            "keyword index",
            "chunks",
            "retrieve p50 ms",
            "p95 ms",
            "keyword p50 ms",
            "p95 ms",
            "batch/question ms",
        ],
        rows,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--home",
        type=Path,
        required=True,
        help="A home built by `ddq eval beir --home` (workspace eval).",
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--queries", type=int, default=None, help="Only the first N queries.")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--strict", action="store_true")
    return run_benchmark("bench_keyword_backends", parser.parse_args(argv), run, render)


if __name__ == "__main__":
    raise SystemExit(main())
