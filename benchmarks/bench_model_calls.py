"""What the call policy and the embedding cache buy, measured in one run.

1. **Concurrent drafting.** 100 questions drafted by the ``openai`` provider against a test
   server that answers every call after 200 ms (the FAKE server of the tests, on a real
   socket), one call at a time (concurrency 1) and with concurrency 8, alternating, several
   repeats. Retrieval is done once beforehand; only drafting is timed. Target: concurrent
   time at most 1/6 of sequential.
2. **Warm re-embedding.** A SciFact slice is ingested; then the index is rebuilt from the
   store (``KnowledgeBase.reindex``) with the embedding cache cleared (cold: every chunk
   goes to the model) and with it warm, alternating. Model calls are counted from the
   embedder's measurements. Target: warm does no model call and takes under 5% of cold.

    python benchmarks/bench_model_calls.py [--docs 300] [--repeats 3] [--questions 100]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from _common import (
    DEFAULT_DATA_DIR,
    REPO_ROOT,
    announce,
    bench_settings,
    environment,
    median,
    run_benchmark,
    scifact_paths,
    table,
    warn_if_busy,
)
from ddq.answer.grounded import GroundedDrafter
from ddq.eval.beir import corpus_items
from ddq.kb import KnowledgeBase
from ddq.models.base import Role
from ddq.models.cache import CachedEmbedder
from ddq.models.calls import stats_for

sys.path.insert(0, str(REPO_ROOT / "tests"))
from support.misbehaving_server import misbehaving_server

DELAY_S = 0.2


def drafting(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    questions_file = REPO_ROOT / "examples" / "questionnaires"
    from ddq.forms import ExtractOptions
    from ddq.questionnaire.files import extract

    asked: list[str] = []
    for path in sorted(questions_file.glob("harborline_*")):
        if path.suffix in (".xlsx", ".docx"):
            asked += [q.text for q in extract(path, ExtractOptions()).questions]
    # As many questions as asked for; repeats are told apart, so no cache can short-cut them.
    questions = [f"{asked[i % len(asked)]} (item {i + 1})" for i in range(args.questions)]
    with misbehaving_server() as server:
        server.mode = "slow"
        server.delay_s = DELAY_S
        settings = bench_settings(work / "drafting").model_copy(update={
            "generator": "openai:slow-test-server", "openai_base_url": server.base_url,
            "model_timeout_s": 30.0, "model_concurrency": 8})
        with KnowledgeBase(settings) as kb:
            kb.ingest_paths([REPO_ROOT / "examples" / "knowledge"])
            retrievals = kb.retriever.retrieve_many(questions)
            runs: dict[int, list[float]] = {1: [], 8: []}
            calls: dict[int, int] = {}
            for _ in range(args.repeats):
                for concurrency in (1, 8):
                    drafter = kb.drafter
                    assert isinstance(drafter, GroundedDrafter)
                    drafter.concurrency = concurrency  # the model's own limit is 8
                    server.reset_counts()
                    started = time.perf_counter()
                    answers = drafter.answer_many(retrievals)
                    runs[concurrency].append(time.perf_counter() - started)
                    calls[concurrency] = server.requests
                    llm = sum(1 for a in answers if a.drafted_by == "openai:slow-test-server")
                    if llm == 0:
                        raise RuntimeError("no question was drafted by the test server")
    sequential, concurrent = median(runs[1]), median(runs[8])
    return {
        "questions": len(questions), "server_delay_s": DELAY_S,
        "model_calls": calls, "sequential_s": runs[1], "concurrent_s": runs[8],
        "sequential_median_s": sequential, "concurrent_median_s": concurrent,
        "ratio": concurrent / sequential, "target_ratio": 1 / 6,
        "meets_target": concurrent / sequential <= 1 / 6,
    }


def reembedding(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    files = scifact_paths(args.data_dir)
    settings = bench_settings(work / "reembed")
    if args.embedder:
        settings = settings.model_copy(update={"embedder": args.embedder})
    with KnowledgeBase(settings) as kb:
        with announce(f"ingest {args.docs} SciFact documents"):
            kb.ingest_items(corpus_items(files.corpus, args.docs), total=args.docs)
        model_id = kb.embedder.model_id
        stats = stats_for(model_id, Role.EMBEDDER)
        texts = [c.embedding_text for batch in kb.store.iter_chunks(settings.workspace)
                 for c in batch]
        cached = CachedEmbedder(kb.embedder, kb.store)
        times: dict[str, list[float]] = {k: [] for k in
                                         ("embed_cold", "embed_warm", "reindex_cold",
                                          "reindex_warm")}
        calls: dict[str, list[int]] = {k: [] for k in times}
        chunks = 0

        def timed(key: str, work: Callable[[], object]) -> None:
            before = stats.calls
            started = time.perf_counter()
            work()
            times[key].append(time.perf_counter() - started)
            calls[key].append(stats.calls - before)

        for _ in range(args.repeats):
            # The re-embedding itself: every chunk text through the cache.
            kb.store.clear_cached_vectors(model_id)
            timed("embed_cold", lambda: cached.lookup(texts))
            timed("embed_warm", lambda: cached.lookup(texts))
            # The whole rebuild of the vector and keyword indexes from the store.
            kb.store.clear_cached_vectors(model_id)
            timed("reindex_cold", kb.reindex)
            timed("reindex_warm", kb.reindex)
        chunks = len(texts)
    medians = {k: median(v) for k, v in times.items()}
    ratio = medians["embed_warm"] / medians["embed_cold"]
    return {
        "embedder": model_id, "documents": args.docs, "chunks": chunks,
        "seconds": times, "model_calls": calls, "medians_s": medians,
        "ratio": ratio,
        "reindex_ratio": medians["reindex_warm"] / medians["reindex_cold"],
        "target_ratio": 0.05,
        "meets_target": ratio < 0.05 and not any(calls["embed_warm"])
        and not any(calls["reindex_warm"]),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    warn_if_busy()
    with tempfile.TemporaryDirectory(prefix="ddq-bench-calls-") as tmp:
        work = Path(tmp)
        with announce("drafting: sequential vs concurrency 8"):
            draft = drafting(args, work)
        with announce("re-embedding: cache cold vs warm"):
            cache = reembedding(args, work)
    return {
        "environment": environment(), "repeats": args.repeats,
        "drafting": draft, "reembedding": cache,
        "summary": {"meets_target": draft["meets_target"] and cache["meets_target"]},
    }


def render(result: dict[str, Any]) -> str:
    d, c = result["drafting"], result["reembedding"]
    rows = [
        ["drafting, concurrency 1", f"{d['questions']} questions", d["sequential_median_s"],
         d["model_calls"].get(1, d["model_calls"].get("1")), ""],
        ["drafting, concurrency 8", f"{d['questions']} questions", d["concurrent_median_s"],
         d["model_calls"].get(8, d["model_calls"].get("8")),
         f"{d['ratio']:.3f} (target <= {1 / 6:.3f})"],
        ["re-embed, cache cold", f"{c['chunks']} chunks", c["medians_s"]["embed_cold"],
         c["model_calls"]["embed_cold"][-1], ""],
        ["re-embed, cache warm", f"{c['chunks']} chunks", c["medians_s"]["embed_warm"],
         c["model_calls"]["embed_warm"][-1], f"{c['ratio']:.4f} (target < 0.05)"],
        ["reindex, cache cold", f"{c['chunks']} chunks", c["medians_s"]["reindex_cold"],
         c["model_calls"]["reindex_cold"][-1], ""],
        ["reindex, cache warm", f"{c['chunks']} chunks", c["medians_s"]["reindex_warm"],
         c["model_calls"]["reindex_warm"][-1], f"{c['reindex_ratio']:.3f}"],
    ]
    return table(["case", "size", "median s", "model calls", "ratio to the line above"], rows)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--docs", type=int, default=300, help="SciFact documents to index.")
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--embedder", help="Embedder for the cache part (default: local).")
    parser.add_argument("--output", type=Path)
    parser.add_argument("--strict", action="store_true", help="Exit 3 if a target is missed.")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    return run_benchmark("bench_model_calls", parse_args(argv), run, render)


if __name__ == "__main__":
    sys.exit(main())
