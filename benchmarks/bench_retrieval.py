"""Retrieval latency for one question on the SciFact index, embedding included.

The claim under test: *retrieval for one question (embedding included, model loaded)
p50 <= 50 ms, p95 <= 150 ms on the SciFact index*.

Builds a SciFact index with the real pipeline (all 5,183 documents by default, ``--docs`` to
limit; about 25 passages/s with the torch model, so several minutes) in a temporary home, or
in ``--home DIR`` so a later run reuses it: re-ingesting unchanged documents is a no-op that
opens neither the model nor Milvus. Then, with the model loaded and one warm-up query:

1. ``kb.retrieve(q)`` for each judged test query (300), one at a time, ``--repeats`` passes;
   p50/p95/p99/mean per pass, and the median of the per-pass p50 and p95 (the verdict);
2. the stages, one question at a time, with the retriever's own parts: query embedding,
   Milvus search, BM25 search, RRF fusion, store hydration (run sequentially here; inside
   ``retrieve`` the BM25 search overlaps the embedding and Milvus search in a thread);
3. ``kb.retriever.retrieve_many`` over all queries at once, per-question amortised time.

A sanity figure comes with it: how many questions have a relevant document in the top k.
Results go to ``benchmarks/results/bench_retrieval-<time>.json``.

    .venv/bin/python benchmarks/bench_retrieval.py --home /tmp/ddq-scifact   # build, measure
    .venv/bin/python benchmarks/bench_retrieval.py --home /tmp/ddq-scifact   # reuse, measure
    .venv/bin/python benchmarks/bench_retrieval.py --docs 200 --queries 20 --repeats 1
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from _common import (
    DEFAULT_DATA_DIR,
    BenchmarkError,
    Stopwatch,
    announce,
    bench_settings,
    environment,
    judged_queries,
    latency_summary,
    load_average,
    median,
    peak_rss_mib,
    relevant_docs,
    run_benchmark,
    scifact_paths,
    settings_summary,
    table,
    warn_if_busy,
)
from ddq.eval.beir import SOURCE_PREFIX, corpus_items
from ddq.ingest.pipeline import Outcome
from ddq.kb import KnowledgeBase
from ddq.models.local import SentenceTransformerEmbedder

MODEL_NAME = "all-MiniLM-L6-v2"
WORKSPACE = "scifact"
TARGET_P50_MS = 50.0
TARGET_P95_MS = 150.0
STAGES = ("embed", "milvus", "bm25", "fuse", "hydrate")


class PrintProgress:
    """Ingestion progress on stderr, every ``every`` documents."""

    def __init__(self, every: int = 250) -> None:
        self.every = every
        self.total = 0
        self.done = 0
        self.started = 0.0

    def start(self, total: int) -> None:
        self.total, self.done, self.started = total, 0, time.perf_counter()

    def advance(self, label: str) -> None:
        self.done += 1
        if self.done % self.every == 0 or self.done == self.total:
            rate = self.done / max(time.perf_counter() - self.started, 1e-9)
            print(
                f"  {self.done}/{self.total} documents ({rate:.1f}/s)", file=sys.stderr, flush=True
            )

    def finish(self) -> None:
        pass


def count_lines(path: Path) -> int:
    with path.open(encoding="utf-8") as handle:
        return sum(1 for line in handle if line.strip())


def build_index(kb: KnowledgeBase, corpus: Path, docs: int | None) -> dict[str, Any]:
    """Ingest (or confirm) the documents; unchanged ones are skipped without the model."""
    before = kb.store.counts(kb.workspace)
    total = min(docs, count_lines(corpus)) if docs is not None else count_lines(corpus)
    label = (
        "checking the existing index"
        if before.documents
        else f"building the index ({total} documents)"
    )
    with announce(label), Stopwatch() as sw:
        report = kb.ingest_items(corpus_items(corpus, docs), total=total, progress=PrintProgress())
    failed = [r for r in report.results if r.outcome is Outcome.FAILED]
    if failed:
        raise BenchmarkError(
            f"{len(failed)} documents failed to ingest, first: "
            f"{failed[0].source}: {failed[0].detail}"
        )
    after = kb.store.counts(kb.workspace)
    chunks_in_milvus = kb.chunk_index.count()
    keyword_size = kb.keyword_index.size
    if chunks_in_milvus != after.chunks or keyword_size != after.chunks:
        print(
            f"warning: index out of sync: store {after.chunks} chunks, Milvus "
            f"{chunks_in_milvus}, BM25 {keyword_size}",
            file=sys.stderr,
        )
    return {
        "documents_before": before.documents,
        "documents": after.documents,
        "chunks": after.chunks,
        "milvus_rows": chunks_in_milvus,
        "bm25_entries": keyword_size,
        "library_entries": after.library_entries,
        "added": report.count(Outcome.ADDED),
        "updated": report.count(Outcome.UPDATED),
        "unchanged": report.count(Outcome.UNCHANGED),
        "embedded_texts": report.embedded_texts,
        "cached_texts": report.cached_texts,
        "seconds": sw.seconds,
        "reused": before.documents > 0,
    }


def one_by_one(kb: KnowledgeBase, questions: Sequence[str]) -> tuple[list[float], list[Any]]:
    """``kb.retrieve`` for each question in turn; (seconds per question, results)."""
    seconds: list[float] = []
    results: list[Any] = []
    for question in questions:
        started = time.perf_counter()
        result = kb.retrieve(question)
        seconds.append(time.perf_counter() - started)
        results.append(result)
    return seconds, results


def stage_times(kb: KnowledgeBase, questions: Sequence[str]) -> dict[str, list[float]]:
    """Each stage of one retrieval, timed separately with the retriever's public parts."""
    retriever = kb.retriever
    s = retriever.settings
    has_library = kb.store.library_entry_count(kb.workspace) > 0
    times: dict[str, list[float]] = {stage: [] for stage in (*STAGES, "library")}
    for question in questions:
        t0 = time.perf_counter()
        vectors = retriever.embedder.embed([question])
        t1 = time.perf_counter()
        dense = retriever.chunk_index.search(
            workspace=kb.workspace, vectors=vectors, limit=s.candidate_k
        )
        t2 = time.perf_counter()
        keyword = retriever.keyword_index.search([question], s.candidate_k)
        t3 = time.perf_counter()
        library_ids: list[int] = []
        if has_library:
            library = retriever.question_index.search(
                workspace=kb.workspace, vectors=vectors, limit=s.library_k
            )
            library_ids = [h.id for h in library[0]]
        t4 = time.perf_counter()
        fused = retriever.fuse([h.id for h in dense[0]], [h.id for h in keyword[0]])
        t5 = time.perf_counter()
        wanted = {i for i, _ in fused[: s.top_k * 2]} | set(library_ids)
        kb.store.chunks_by_ids(kb.workspace, wanted)
        t6 = time.perf_counter()
        times["embed"].append(t1 - t0)
        times["milvus"].append(t2 - t1)
        times["bm25"].append(t3 - t2)
        times["library"].append(t4 - t3)
        times["fuse"].append(t5 - t4)
        times["hydrate"].append(t6 - t5)
    if not has_library:
        del times["library"]
    return times


def hit_rate(ids: Sequence[str], results: Sequence[Any], relevant: dict[str, set[str]]) -> int:
    """Questions with at least one relevant document among their hits."""
    found = 0
    for qid, result in zip(ids, results, strict=True):
        docs = {h.chunk.source_path.removeprefix(SOURCE_PREFIX) for h in result.hits}
        found += bool(docs & relevant.get(qid, set()))
    return found


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def run(args: argparse.Namespace) -> dict[str, Any]:
    files = scifact_paths(args.data)
    queries = judged_queries(files, args.queries)
    ids = [q for q, _ in queries]
    questions = [text for _, text in queries]
    relevant = relevant_docs(files)
    env_before = environment()
    warn_if_busy()

    scratch: Path | None = None
    if args.home is not None:
        home = args.home
    else:
        scratch = Path(tempfile.mkdtemp(prefix="ddq-bench-retrieval-"))
        home = scratch
    try:
        settings = bench_settings(home, args.workspace)
        embedder = SentenceTransformerEmbedder(MODEL_NAME, batch_size=settings.embedding_batch_size)
        with announce("loading the model"), Stopwatch() as load:
            embedder.embed(["warm up the model"])
        with KnowledgeBase(settings, embedder=embedder) as kb:
            index = build_index(kb, files.corpus, args.docs)
            if index["chunks"] == 0:
                raise BenchmarkError(f"the index at {home} holds no chunks")
            with announce("warm-up query"), Stopwatch() as warm:
                kb.retrieve(questions[0])

            passes: list[dict[str, float]] = []
            first_results: list[Any] = []
            for number in range(1, args.repeats + 1):
                with announce(f"pass {number}: {len(questions)} questions one at a time"):
                    seconds, results = one_by_one(kb, questions)
                passes.append(latency_summary(seconds))
                if number == 1:
                    first_results = results

            with announce("stages, one question at a time"):
                stages = stage_times(kb, questions)

            batched: list[float] = []
            for number in range(1, args.repeats + 1):
                with announce(f"batch {number}: retrieve_many over {len(questions)} questions"):
                    batched.append(timed(lambda: kb.retriever.retrieve_many(questions)))

            top_k = kb.retriever.settings.top_k
            found = hit_rate(ids, first_results, relevant)
            indexed = {
                d.source_path.removeprefix(SOURCE_PREFIX) for d in kb.store.documents(kb.workspace)
            }
            answerable = sum(1 for q in ids if relevant.get(q, set()) & indexed)
            empty = sum(1 for r in first_results if not r.hits)
    finally:
        if scratch is not None and not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
        elif scratch is not None:
            print(f"kept {scratch}", file=sys.stderr)

    p50 = median([p["p50_ms"] for p in passes])
    p95 = median([p["p95_ms"] for p in passes])
    stage_summary = {name: latency_summary(values) for name, values in stages.items()}
    return {
        "parameters": {
            "docs": args.docs,
            "queries": len(questions),
            "repeats": args.repeats,
            "home": str(args.home) if args.home else None,
            "data": str(files.directory),
        },
        "settings": settings_summary(settings),
        "environment": env_before,
        "environment_after": {"load_average": load_average()},
        "model": {"name": MODEL_NAME, "load_seconds": load.seconds},
        "index": index,
        "warmup_ms": warm.seconds * 1000,
        "passes": passes,
        "stages": stage_summary,
        "stage_p50_sum_ms": sum(s["p50_ms"] for s in stage_summary.values()),
        "batched": {
            "seconds": batched,
            "per_question_ms": [b * 1000 / len(questions) for b in batched],
            "median_per_question_ms": median(batched) * 1000 / len(questions),
        },
        "sanity": {
            "top_k": top_k,
            "questions_with_relevant_in_top_k": found,
            "questions_with_relevant_in_index": answerable,
            "questions_without_hits": empty,
        },
        "summary": {
            "median_p50_ms": p50,
            "median_p95_ms": p95,
            "target_p50_ms": TARGET_P50_MS,
            "target_p95_ms": TARGET_P95_MS,
            "meets_target": p50 <= TARGET_P50_MS and p95 <= TARGET_P95_MS,
            "peak_rss_mib": peak_rss_mib(),
        },
    }


def render(result: dict[str, Any]) -> str:
    ix = result["index"]
    s = result["summary"]
    n = result["parameters"]["queries"]
    how = (
        f"reused ({ix['unchanged']} unchanged, {ix['added']} added)"
        if ix["reused"]
        else f"built in {ix['seconds']:.1f} s ({ix['embedded_texts']} texts embedded)"
    )
    lines = [
        f"SciFact index: {ix['documents']} documents, {ix['chunks']} chunks (Milvus "
        f"{ix['milvus_rows']}, BM25 {ix['bm25_entries']}), {how}",
        f"model {result['model']['name']} loaded in {result['model']['load_seconds']:.1f} s "
        f"(excluded); warm-up query {result['warmup_ms']:.0f} ms; torch threads "
        f"{result['environment'].get('torch_threads')}; load average before "
        f"{result['environment']['load_average']}, after "
        f"{result['environment_after']['load_average']}",
        "",
        f"kb.retrieve(q), one question at a time ({n} questions per pass), ms:",
        table(
            ["pass", "p50", "p95", "p99", "mean", "max"],
            [
                [i, p["p50_ms"], p["p95_ms"], p["p99_ms"], p["mean_ms"], p["max_ms"]]
                for i, p in enumerate(result["passes"], start=1)
            ],
        ),
        "",
        "stages, one question at a time (sequential), ms:",
        table(
            ["stage", "p50", "p95", "p99", "mean"],
            [
                [name, v["p50_ms"], v["p95_ms"], v["p99_ms"], v["mean_ms"]]
                for name, v in result["stages"].items()
            ],
        ),
        f"sum of stage p50s: {result['stage_p50_sum_ms']:.1f} ms",
        "",
        f"retrieve_many over {n} questions: "
        + ", ".join(f"{b:.2f} s" for b in result["batched"]["seconds"])
        + f"; median {result['batched']['median_per_question_ms']:.1f} ms per question",
        f"sanity: {result['sanity']['questions_with_relevant_in_top_k']}/{n} questions have a "
        f"relevant document in the top {result['sanity']['top_k']} "
        f"({result['sanity']['questions_with_relevant_in_index']} have one in the index); "
        f"{result['sanity']['questions_without_hits']} without hits",
        "",
        f"median over passes: p50 {s['median_p50_ms']:.1f} ms (target <= "
        f"{s['target_p50_ms']:.0f}), p95 {s['median_p95_ms']:.1f} ms (target <= "
        f"{s['target_p95_ms']:.0f}): {'MET' if s['meets_target'] else 'NOT MET'}; "
        f"peak RSS {s['peak_rss_mib']:.0f} MiB",
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="folder holding scifact/ (default: ../shared/data from the repo)",
    )
    parser.add_argument(
        "--home",
        type=Path,
        default=None,
        help="build the index here, or reuse the one already here "
        "(default: a temporary home, deleted afterwards)",
    )
    parser.add_argument(
        "--workspace",
        default=WORKSPACE,
        help="workspace of the index (`ddq eval beir --home DIR` builds workspace 'eval')",
    )
    parser.add_argument(
        "--docs",
        type=int,
        default=None,
        help="index only the first N documents (default: all 5,183)",
    )
    parser.add_argument(
        "--queries",
        type=int,
        default=None,
        help="use only the first N judged test queries (default: all 300)",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="one-by-one passes and batched runs (default 3)"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="JSON result file (default: benchmarks/results/bench_retrieval-*.json)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary home (ignored with --home)"
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 3 when a latency target is not met"
    )
    args = parser.parse_args(argv)
    if (
        args.repeats < 1
        or (args.docs is not None and args.docs < 1)
        or (args.queries is not None and args.queries < 1)
    ):
        parser.error("--docs, --queries and --repeats must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return run_benchmark("bench_retrieval", parse_args(argv), run, render)


if __name__ == "__main__":
    sys.exit(main())
