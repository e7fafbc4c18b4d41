"""Scaling curve of the two indexes: build time, memory, disk and search latency by size.

The question: *how do DDQ's Milvus Lite vector index and BM25 keyword index behave from 10k to
200k chunks, and where does Milvus Lite stop being the right choice?*

The embedding model is not part of the curve: it is linear in chunks and would take about an
hour per 200k chunks here. Its projected time per size comes from the measured full-SciFact
ingest rates in docs/performance.md. What is measured, per size, each in a fresh temporary
directory and a fresh process (so memory figures do not carry over):

1. **Milvus Lite through DDQ's ``MilvusVectorIndex``** (the collection, FLAT/IP index and
   workspace filter DDQ creates): ``ensure``; ``insert`` in groups of 1,024 rows as the
   ingestion pipeline calls it (it upserts in batches of 2,000); ``flush``; on-disk size;
   RSS before, peak and after; the first search; then 300 queries one at a time
   (``limit = candidate_k``) and as one batch of 300, with a check against exact numpy
   top-k and numpy's own brute-force time as the floor.
2. **BM25 through DDQ's ``BM25KeywordIndex``**: ``rebuild`` (tokenise, stem, index, save),
   reload in the same process, on-disk size, RSS, 300 queries one at a time and as a batch.

**The data is synthetic beyond SciFact.** The first ``--base-docs`` rows are real SciFact
passages (title + abstract) with their real all-MiniLM-L6-v2 vectors (``onnx`` int8 embedder,
embedded once and cached under ``--cache``). Every further row is synthetic: an *anchor*
SciFact document picked at random; text = its title, its sentences shuffled, then random
SciFact sentences up to ``--words`` words; vector = the anchor's vector plus Gaussian noise
(sigma ``--noise`` per dimension), renormalised. Queries: the 300 judged SciFact test
queries, embedded once with the same model. Results go to
``benchmarks/results/bench_scaling-<time>.json``.

    .venv/bin/python benchmarks/bench_scaling.py --sizes 10000                  # debug
    .venv/bin/python benchmarks/bench_scaling.py                                 # full curve
    .venv/bin/python benchmarks/bench_scaling.py --sizes 10000,50000 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from _common import (
    DEFAULT_DATA_DIR,
    BenchmarkError,
    announce,
    bench_settings,
    environment,
    judged_queries,
    latency_summary,
    load_average,
    median,
    read_jsonl,
    run_benchmark,
    scifact_paths,
    settings_summary,
    table,
    warn_if_busy,
)
from ddq.models.onnx import onnx_model_id, parse_onnx_name

ONNX_MODEL = "onnx:all-MiniLM-L6-v2"
WORKSPACE = "bench"
INSERT_GROUP = 1024  # the ingestion pipeline's GROUP_CHUNKS: rows per insert() call
BACKENDS = ("milvus", "bm25")
# Full SciFact ingest (5,183 docs, 11,231 chunks), docs/performance.md: issue 4's run
# bench_embedders-20261126T163705Z, 589 s with sentence-transformers and 149 s with onnx int8;
# issue 7's `ddq eval beir` with the openvino default, 75.2 s.
SCIFACT_CHUNKS = 11_231
INGEST_CHUNKS_PER_S = {"local (torch)": SCIFACT_CHUNKS / 589, "onnx int8": SCIFACT_CHUNKS / 149,
                       "openvino (bf16)": SCIFACT_CHUNKS / 75.2}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(])")


# --- data (parent process, cached) -----------------------------------------------------------


def prepare_data(args: argparse.Namespace, cache: Path) -> dict[str, Any]:
    """Base passages, their sentences, and real vectors for them and the queries (cached)."""
    files = scifact_paths(args.data)
    queries = judged_queries(files, args.queries)
    docs = [r for r, _ in zip(read_jsonl(files.corpus), range(args.base_docs), strict=False)]
    titles = [str(d.get("title") or "").strip() for d in docs]
    bodies = [str(d.get("text") or "").strip() for d in docs]
    base = {
        "titles": titles,
        "texts": [f"{t}\n{b}" for t, b in zip(titles, bodies, strict=True)],
        "sentences": [[s for s in _SENTENCE_END.split(b) if s.strip()] for b in bodies],
        "queries": [text for _, text in queries],
    }
    cache.mkdir(parents=True, exist_ok=True)
    (cache / f"base-{len(docs)}.json").write_text(json.dumps(base), encoding="utf-8")
    base_file = cache / f"base-{len(docs)}.npy"
    query_file = cache / f"queries-{len(queries)}.npy"
    info: dict[str, Any] = {"base_docs": len(docs), "queries": len(queries),
                            "base_vectors_cached": base_file.is_file()}
    if not base_file.is_file() or not query_file.is_file():
        from ddq.models.registry import embedder_for

        settings = bench_settings(cache).model_copy(update={"embedder": ONNX_MODEL})
        embedder = embedder_for(settings)
        embedder.embed(["warm up the model"])
        with announce(f"embedding {len(docs)} SciFact passages (cached afterwards)"):
            started = time.perf_counter()
            vectors = np.asarray(embedder.embed(base["texts"]), dtype=np.float32)
            info["base_embed_seconds"] = time.perf_counter() - started
        np.save(base_file, vectors)
        np.save(query_file, np.asarray(embedder.embed(base["queries"]), dtype=np.float32))
    info["model_id"] = onnx_model_id(*parse_onnx_name(ONNX_MODEL))
    info["files"] = {"base": str(base_file), "queries": str(query_file),
                     "texts": str(cache / f"base-{len(docs)}.json")}
    return info


def synthesise(spec: dict[str, Any]) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
    """(texts, vectors, query texts, query vectors) for ``spec['size']`` rows, deterministic."""
    base = json.loads(Path(spec["files"]["texts"]).read_text(encoding="utf-8"))
    base_vectors = np.load(spec["files"]["base"])
    query_vectors = np.load(spec["files"]["queries"])
    size, words = spec["size"], spec["words"]
    real = min(size, len(base["texts"]))
    texts = list(base["texts"][:real])
    rng = random.Random(spec["seed"])
    pool = [s for sentences in base["sentences"] for s in sentences]
    anchors = [rng.randrange(len(base_vectors)) for _ in range(size - real)]
    for anchor in anchors:
        own = list(base["sentences"][anchor])
        rng.shuffle(own)
        parts = [base["titles"][anchor]]
        count = 0
        for sentence in own[: max(1, len(own) // 2)]:
            parts.append(sentence)
            count += sentence.count(" ") + 1
        while count < words:
            sentence = pool[rng.randrange(len(pool))]
            parts.append(sentence)
            count += sentence.count(" ") + 1
        texts.append(parts[0] + "\n" + " ".join(parts[1:]))
    vectors = np.empty((size, base_vectors.shape[1]), dtype=np.float32)
    vectors[:real] = base_vectors[:real]
    noise = np.random.default_rng(spec["seed"])
    for start in range(0, len(anchors), 20_000):
        rows = np.asarray(anchors[start : start + 20_000])
        block = base_vectors[rows] + noise.normal(0, spec["noise"], (len(rows), vectors.shape[1]))
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        vectors[real + start : real + start + len(rows)] = block
    return texts, vectors, base["queries"], query_vectors


# --- measuring helpers (worker process) ------------------------------------------------------


def rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class RssPeak:
    """Samples this process's RSS every 20 ms on a thread; ``peak`` after the block."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mib())
            self._stop.wait(0.02)

    def __enter__(self) -> RssPeak:
        self.peak = rss_mib()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mib())


def disk_mib(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / (1024 * 1024)


def one_at_a_time(search: Any, items: Sequence[Any]) -> list[float]:
    seconds = []
    for item in items:
        started = time.perf_counter()
        search(item)
        seconds.append(time.perf_counter() - started)
    return seconds


def batch_runs(search: Any, items: Any, runs: int) -> list[float]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        search(items)
        seconds.append(time.perf_counter() - started)
    return seconds


def measure_milvus(spec: dict[str, Any], directory: Path, vectors: np.ndarray,
                   queries: np.ndarray) -> dict[str, Any]:
    from ddq.index.vector import MilvusVectorIndex, collection_name

    k, n = spec["candidate_k"], len(vectors)
    uri = str(directory / "milvus.db")
    rss_before = rss_mib()
    timings: dict[str, float] = {}
    progress: list[list[float]] = []
    with RssPeak() as build_peak:
        started = time.perf_counter()
        client = MilvusVectorIndex.connect(uri)
        index = MilvusVectorIndex(client, collection_name(spec["model_id"], 384, "chunks"), 384,
                                  spec["index_type"])
        index.ensure()
        timings["open_s"] = time.perf_counter() - started
        rss_open = rss_mib()  # the Milvus Lite engine itself, before any row
        ids = np.arange(1, n + 1, dtype=np.int64)
        documents = ids // 2 + 1
        started = time.perf_counter()
        for start in range(0, n, INSERT_GROUP):
            stop = start + INSERT_GROUP
            index.insert(workspace=WORKSPACE, ids=ids[start:stop].tolist(),
                         document_ids=documents[start:stop].tolist(), vectors=vectors[start:stop])
            if (start // INSERT_GROUP) % 20 == 19 or stop >= n:
                progress.append([min(stop, n), time.perf_counter() - started])
        timings["insert_s"] = time.perf_counter() - started
        started = time.perf_counter()
        index.flush()
        timings["flush_s"] = time.perf_counter() - started
    rss_built = rss_mib()
    count = index.count()
    started = time.perf_counter()
    first = index.search(workspace=WORKSPACE, vectors=queries[:1], limit=k)
    timings["first_search_ms"] = (time.perf_counter() - started) * 1000
    with RssPeak() as search_peak:
        single = one_at_a_time(
            lambda q: index.search(workspace=WORKSPACE, vectors=q[None, :], limit=k), queries)
        batch = batch_runs(
            lambda qs: index.search(workspace=WORKSPACE, vectors=qs, limit=k), queries,
            spec["batch_runs"])
    hits = index.search(workspace=WORKSPACE, vectors=queries, limit=k)
    MilvusVectorIndex.disconnect(client, uri)
    # Exact top-k with numpy over the same vectors: the recall check and the floor.
    exact_single = one_at_a_time(lambda q: np.argpartition(-(vectors @ q), k)[:k], queries)
    started = time.perf_counter()
    scores = queries @ vectors.T
    exact = np.argpartition(-scores, k, axis=1)[:, :k]
    exact_batch = time.perf_counter() - started
    recall = [len({h.id - 1 for h in row} & set(top.tolist())) / k
              for row, top in zip(hits, exact, strict=True)]
    return {
        "rows": count,
        "first_query_hits": len(first[0]),
        **timings,
        "build_s": timings["open_s"] + timings["insert_s"] + timings["flush_s"],
        "rows_per_s": n / (timings["insert_s"] + timings["flush_s"]),
        "insert_progress": progress,
        "disk_mib": disk_mib(directory / "milvus.db"),
        "rss_before_mib": rss_before,
        "rss_after_open_mib": rss_open,
        "rss_build_peak_mib": build_peak.peak,
        "rss_after_build_mib": rss_built,
        "rss_search_peak_mib": search_peak.peak,
        "rss_delta_mib": max(build_peak.peak, search_peak.peak) - rss_before,
        "rss_rows_delta_mib": max(build_peak.peak, search_peak.peak) - rss_open,
        "single": latency_summary(single),
        "batch_s": batch,
        "batch_per_question_ms": median(batch) * 1000 / len(queries),
        "recall_vs_exact": float(np.mean(recall)),
        "numpy_single": latency_summary(exact_single),
        "numpy_batch_per_question_ms": exact_batch * 1000 / len(queries),
    }


def measure_bm25(spec: dict[str, Any], directory: Path, texts: list[str],
                 queries: list[str]) -> dict[str, Any]:
    from ddq.index.keyword import BM25KeywordIndex

    k = spec["candidate_k"]
    folder = directory / "keyword" / WORKSPACE
    rss_before = rss_mib()
    with RssPeak() as build_peak:
        index = BM25KeywordIndex(folder)
        started = time.perf_counter()
        indexed = index.rebuild(enumerate(texts, start=1))
        build_s = time.perf_counter() - started
    rss_built = rss_mib()
    started = time.perf_counter()
    reloaded = BM25KeywordIndex(folder)
    size = reloaded.size
    load_s = time.perf_counter() - started
    del reloaded
    with RssPeak() as search_peak:
        single = one_at_a_time(lambda q: index.search([q], k), queries)
        batch = batch_runs(lambda qs: index.search(qs, k), queries, spec["batch_runs"])
    return {
        "rows": indexed,
        "reloaded_rows": size,
        "build_s": build_s,
        "rows_per_s": indexed / build_s,
        "load_s": load_s,
        "disk_mib": disk_mib(folder),
        "rss_before_mib": rss_before,
        "rss_build_peak_mib": build_peak.peak,
        "rss_after_build_mib": rss_built,
        "rss_search_peak_mib": search_peak.peak,
        "rss_delta_mib": max(build_peak.peak, search_peak.peak) - rss_before,
        "single": latency_summary(single),
        "batch_s": batch,
        "batch_per_question_ms": median(batch) * 1000 / len(queries),
    }


def worker(spec_file: Path) -> int:
    """One (size, backend, repeat) in this fresh process; the result goes beside the spec."""
    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    directory = spec_file.parent
    load_before = load_average()
    started = time.perf_counter()
    texts, vectors, query_texts, query_vectors = synthesise(spec)
    synth_s = time.perf_counter() - started
    anchors_cos = None
    if spec["backend"] == "milvus":
        if spec["size"] > spec["base_docs"]:  # how far the noise moved the synthetic vectors
            base = np.load(spec["files"]["base"])
            anchors_cos = float(np.mean(np.max(vectors[spec["base_docs"]:][:2000] @ base.T, 1)))
        del texts
        result = measure_milvus(spec, directory, vectors, query_vectors)
    else:
        del vectors
        result = measure_bm25(spec, directory, texts, query_texts)
    result.update(synth_s=synth_s, load_average_before=load_before,
                  load_average_after=load_average(), synthetic_max_cos_to_base=anchors_cos)
    (directory / "result.json").write_text(json.dumps(result), encoding="utf-8")
    return 0


# --- the curve (parent process) --------------------------------------------------------------


def run_one(spec: dict[str, Any], limit_s: int) -> dict[str, Any]:
    directory = Path(tempfile.mkdtemp(prefix=f"ddq-bench-scaling-{spec['backend']}-"))
    try:
        spec_file = directory / "spec.json"
        spec_file.write_text(json.dumps(spec), encoding="utf-8")
        started = time.perf_counter()
        try:
            done = subprocess.run([sys.executable, __file__, "--worker", str(spec_file)],
                                  timeout=limit_s, check=False)
        except subprocess.TimeoutExpired:
            return {"timed_out": True, "limit_s": limit_s}
        wall = time.perf_counter() - started
        if done.returncode != 0 or not (directory / "result.json").is_file():
            return {"failed": True, "returncode": done.returncode, "wall_s": wall}
        result = json.loads((directory / "result.json").read_text(encoding="utf-8"))
        result["wall_s"] = wall
        return result
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def repeats_for(size: int, args: argparse.Namespace) -> int:
    if args.repeats is not None:
        return args.repeats
    return 3 if size <= 50_000 else 1


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in runs if "single" in r]
    if not ok:
        return {"ok": False}

    def med(key: str) -> float:
        return median([r[key] for r in ok])

    return {
        "ok": True,
        "repeats": len(ok),
        "build_s": med("build_s"),
        "build_s_range": [min(r["build_s"] for r in ok), max(r["build_s"] for r in ok)],
        "rows_per_s": med("rows_per_s"),
        "disk_mib": med("disk_mib"),
        "rss_delta_mib": med("rss_delta_mib"),
        "rss_peak_mib": median([max(r["rss_build_peak_mib"], r["rss_search_peak_mib"])
                                for r in ok]),
        "rss_engine_mib": (median([r["rss_after_open_mib"] - r["rss_before_mib"] for r in ok])
                           if "rss_after_open_mib" in ok[0] else None),
        "p50_ms": median([r["single"]["p50_ms"] for r in ok]),
        "p95_ms": median([r["single"]["p95_ms"] for r in ok]),
        "batch_per_question_ms": med("batch_per_question_ms"),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    from ddq.config import load_settings

    settings = load_settings()
    env = environment()
    warn_if_busy()
    data = prepare_data(args, args.cache)
    sizes: dict[str, Any] = {}
    given_up: dict[str, int] = {}
    for size in args.sizes:
        entry: dict[str, Any] = {"repeats": repeats_for(size, args)}
        for backend in args.backends:
            if backend in given_up:
                entry[backend] = {"runs": [], "skipped": f"{given_up[backend]:,} timed out"}
                continue
            runs = []
            for number in range(1, entry["repeats"] + 1):
                spec = {
                    "backend": backend, "size": size, "seed": args.seed + number,
                    "words": args.words, "noise": args.noise, "candidate_k": settings.candidate_k,
                    "batch_runs": args.batch_runs, "base_docs": data["base_docs"],
                    "files": data["files"], "model_id": data["model_id"],
                    "index_type": args.index_type,
                }
                with announce(f"{backend} {size:,} rows, repeat {number}/{entry['repeats']}"):
                    runs.append(run_one(spec, args.max_seconds))
                if runs[-1].get("timed_out"):
                    given_up[backend] = size
                    break
            entry[backend] = {"runs": runs, "summary": summarise(runs)}
        entry["projected_embedding_s"] = {k: size / v for k, v in INGEST_CHUNKS_PER_S.items()}
        sizes[str(size)] = entry
    return {
        "parameters": {
            "index_type": args.index_type,
            "sizes": args.sizes, "repeats": args.repeats, "backends": args.backends,
            "base_docs": args.base_docs, "words": args.words, "noise": args.noise,
            "seed": args.seed, "batch_runs": args.batch_runs, "max_seconds": args.max_seconds,
            "insert_group": INSERT_GROUP, "data": str(args.data), "cache": str(args.cache),
        },
        "data": {**data, "synthetic": (
            f"rows beyond the first {data['base_docs']} real SciFact passages are synthetic: "
            "shuffled SciFact sentences around a random anchor document; vector = anchor's "
            f"real vector + N(0, {args.noise}^2) noise, renormalised")},
        "settings": settings_summary(settings),
        "environment": env,
        "environment_after": {"load_average": load_average()},
        "embedding_rates_chunks_per_s": INGEST_CHUNKS_PER_S,
        "sizes": sizes,
        # There is no target here (so no --strict); the summary is the curve itself.
        "summary": {size: {b: entry[b].get("summary") for b in args.backends}
                    for size, entry in sizes.items()},
    }


def render(result: dict[str, Any]) -> str:
    rows_m, rows_b, rows_e = [], [], []
    for size, entry in result["sizes"].items():
        label = f"{int(size):,}"
        for backend, rows in (("milvus", rows_m), ("bm25", rows_b)):
            if backend not in entry:
                continue
            s = entry[backend].get("summary", {})
            if not s.get("ok"):
                runs = entry[backend]["runs"]
                why = entry[backend].get("skipped") or (
                    "timed out" if runs and runs[-1].get("timed_out") else "failed")
                rows.append([label, why, "", "", "", "", "", "", ""])
                continue
            rows.append([label, s["repeats"], s["build_s"], s["rows_per_s"], s["disk_mib"],
                         s["rss_delta_mib"], s["p50_ms"], s["p95_ms"], s["batch_per_question_ms"]])
        p = entry["projected_embedding_s"]
        rows_e.append([label, *(f"{v:.0f} s" if v < 120 else f"{v / 60:.0f} min"
                                for v in p.values())])
    head = ["chunks", "runs", "build s", "rows/s", "disk MiB", "RSS Δ MiB", "p50 ms", "p95 ms",
            "batch ms/q"]
    env = result["environment"]
    return "\n".join([
        f"synthetic data beyond {result['data']['base_docs']} real SciFact passages; "
        f"{result['data']['queries']} SciFact queries; limit = candidate_k "
        f"{result['settings']['candidate_k']}; load average before {env['load_average']}, "
        f"after {result['environment_after']['load_average']}",
        "",
        f"Milvus Lite (MilvusVectorIndex: ensure + insert + flush; "
        f"{result['parameters'].get('index_type', 'FLAT')}, IP, workspace filter):",
        table(head, rows_m),
        "",
        "BM25 (BM25KeywordIndex.rebuild: tokenise, stem, index, save):",
        table(head, rows_b),
        "",
        "projected embedding time (not measured here; full-SciFact ingest rates):",
        table(["chunks", *result["embedding_rates_chunks_per_s"]], rows_e),
    ])


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR,
                        help="folder holding scifact/ (default: ../shared/data from the repo)")
    parser.add_argument("--sizes", default="10000,50000,100000,200000",
                        help="comma-separated chunk counts (default 10000,50000,100000,200000)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="builds per size, each fresh (default: 3 up to 50k, 1 above)")
    parser.add_argument("--backends", default=",".join(BACKENDS),
                        help="milvus, bm25 or both (default both)")
    parser.add_argument("--queries", type=int, default=None,
                        help="use only the first N judged test queries (default: all 300)")
    parser.add_argument("--base-docs", type=int, default=3000,
                        help="real SciFact passages embedded once (default 3000)")
    parser.add_argument("--words", type=int, default=130,
                        help="words per synthetic chunk, about a 180-token chunk (default 130)")
    parser.add_argument("--noise", type=float, default=0.02,
                        help="Gaussian noise per dimension for synthetic vectors (default 0.02)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--index-type", choices=("HNSW", "FLAT"), default="HNSW",
                        help="Milvus index type (DDQ_VECTOR_INDEX; HNSW is DDQ's default)")
    parser.add_argument("--batch-runs", type=int, default=3,
                        help="timed batch searches of all queries per build (default 3)")
    parser.add_argument("--max-seconds", type=int, default=1800,
                        help="give up on one build after this long; larger sizes of that "
                        "backend are then skipped (default 1800)")
    parser.add_argument("--cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "ddq-bench-scaling-cache",
                        help="where the real vectors and the ONNX export are kept")
    parser.add_argument("--output", type=Path, default=None,
                        help="JSON result file (default: benchmarks/results/bench_scaling-*.json)")
    parser.add_argument("--worker", type=Path, default=None, help=argparse.SUPPRESS)
    parser.set_defaults(strict=False)
    args = parser.parse_args(argv)
    if args.worker is not None:
        return args
    try:
        args.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error("--sizes must be comma-separated integers")
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not args.sizes or min(args.sizes) < 100 or set(args.backends) - set(BACKENDS):
        parser.error("--sizes must be at least 100; --backends: milvus, bm25")
    if (args.repeats is not None and args.repeats < 1) or args.base_docs < 100:
        parser.error("--repeats must be at least 1 and --base-docs at least 100")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker is not None:
        os.environ.setdefault("GRPC_VERBOSITY", "NONE")
        return worker(args.worker)
    return run_benchmark("bench_scaling", args, run, render)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchmarkError as exc:  # raised outside run_benchmark's own handling
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
