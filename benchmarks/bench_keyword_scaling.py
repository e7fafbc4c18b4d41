"""Scaling of the two keyword indexes: bm25s files and Milvus's BM25 (Lite or a server).

The question: *how do build time, one-question and batched search latency and memory of
DDQ's keyword indexes grow with the corpus, and where does each stop being the right
choice?* Driven through DDQ's own classes: ``BM25KeywordIndex.rebuild`` and
``MilvusKeywordIndex.rebuild`` (stems, inserts in batches of 1,000, flushes), then
``search`` with ``limit = candidate_k`` (50) for the judged SciFact test queries one at a
time, and as one batch.

**The texts are synthetic beyond SciFact's 5,183 abstracts**: each further row is a random
SciFact title followed by random SciFact sentences up to ``--words`` words (~180 tokens, a
chunk's size), so the vocabulary is SciFact's and posting lists grow linearly (pessimistic
for search). Each (size, backend) runs in a fresh process, so memory figures do not carry
over; "RSS" is that process's peak RSS minus its RSS before the index was opened (for a
Milvus server, the server's own memory is not in it).

    .venv/bin/python benchmarks/bench_keyword_scaling.py --sizes 10000,100000
    .venv/bin/python benchmarks/bench_keyword_scaling.py --sizes 100000 --backends milvus \\
        --milvus-uri http://127.0.0.1:19530      # a Milvus 2.5+ server
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import subprocess
import sys
import tempfile
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
    read_jsonl,
    run_benchmark,
    scifact_paths,
    table,
    warn_if_busy,
)

BACKENDS = ("bm25s", "milvus")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(])")


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _texts(data: Path, size: int, words: int, seed: int) -> list[str]:
    files = scifact_paths(data)
    docs = [(str(d.get("title", "")), str(d.get("text", ""))) for d in read_jsonl(files.corpus)]
    texts = [f"{t}\n{x}" for t, x in docs][:size]
    sentences = [s for _, x in docs for s in _SENTENCE_END.split(x) if s]
    rng = random.Random(seed)
    while len(texts) < size:
        title, _ = docs[rng.randrange(len(docs))]
        parts, count = [title], 0
        while count < words:
            sentence = sentences[rng.randrange(len(sentences))]
            parts.append(sentence)
            count += sentence.count(" ") + 1
        texts.append(" ".join(parts))
    return texts


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    from ddq.index.keyword import BM25KeywordIndex

    texts = _texts(Path(spec["data"]), spec["size"], spec["words"], spec["seed"])
    queries = [q for _, q in judged_queries(scifact_paths(Path(spec["data"])), spec["queries"])]
    k = spec["candidate_k"]
    scratch = Path(spec["scratch"])
    rss_before = _rss_mib()
    client = None
    uri = spec.get("milvus_uri") or str(scratch / "milvus.db")
    if spec["backend"] == "bm25s":
        index: Any = BM25KeywordIndex(scratch / "keyword")
    else:
        from ddq.index.milvus_keyword import MilvusKeywordIndex
        from ddq.index.vector import MilvusVectorIndex

        client = MilvusVectorIndex.connect(uri)
        index = MilvusKeywordIndex(client, "bench", name=f"bench_keyword_{spec['size']}")
        index.drop()
    started = time.perf_counter()
    built = index.rebuild(enumerate(texts, start=1))
    build_s = time.perf_counter() - started
    del texts
    index.search([queries[0]], k)  # warm-up
    single = []
    for query in queries:
        t0 = time.perf_counter()
        index.search([query], k)
        single.append(time.perf_counter() - t0)
    batches = []
    for _ in range(3):
        t0 = time.perf_counter()
        index.search(queries, k)
        batches.append(time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if client is not None:
        if spec.get("milvus_uri"):
            index.drop()
        MilvusVectorIndex.disconnect(client, uri)
    return {
        "rows": built,
        "build_s": build_s,
        "rows_per_s": built / build_s,
        "single": latency_summary(single),
        "batch_per_question_ms": median(batches) * 1000 / len(queries),
        "rss_delta_mib": peak - rss_before,
        "load_average_after": load_average(),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    from ddq.config import load_settings

    warn_if_busy()
    env = environment()
    results: dict[str, dict[str, Any]] = {}
    for size in args.sizes:
        for backend in args.backends:
            with tempfile.TemporaryDirectory(prefix="ddq-kw-scaling-") as scratch:
                spec = {
                    "backend": backend,
                    "size": size,
                    "words": args.words,
                    "seed": args.seed,
                    "data": str(args.data),
                    "queries": args.queries,
                    "candidate_k": load_settings().candidate_k,
                    "scratch": scratch,
                    "milvus_uri": args.milvus_uri if backend == "milvus" else None,
                }
                print(f"{backend} {size:,} rows ...", file=sys.stderr, flush=True)
                done = subprocess.run(
                    [sys.executable, __file__, "--worker", json.dumps(spec)],
                    capture_output=True,
                    text=True,
                    timeout=args.max_seconds,
                    check=False,
                )
                if done.returncode != 0:
                    raise RuntimeError(f"{backend} {size}: {done.stderr[-2000:]}")
                results.setdefault(str(size), {})[backend] = json.loads(
                    done.stdout.strip().splitlines()[-1]
                )
    return {
        "parameters": {
            "sizes": args.sizes,
            "backends": args.backends,
            "words": args.words,
            "seed": args.seed,
            "milvus_uri": args.milvus_uri or "Milvus Lite (a local path)",
        },
        "environment": env,
        "load_after": load_average(),
        "sizes": results,
        "summary": {"meets_target": True},
    }


def render(result: dict[str, Any]) -> str:
    rows = []
    for size, entry in result["sizes"].items():
        for backend, r in entry.items():
            rows.append(
                [
                    f"{int(size):,}",
                    backend,
                    r["build_s"],
                    r["rows_per_s"],
                    r["single"]["p50_ms"],
                    r["single"]["p95_ms"],
                    r["batch_per_question_ms"],
                    r["rss_delta_mib"],
                ]
            )
    return table(
        [
            "chunks",
            "keyword index",
            "build s",
            "rows/s",
            "p50 ms",
            "p95 ms",
            "batch ms/q",
            "RSS Δ MiB",
        ],
        rows,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="10000,100000", type=lambda s: [int(x) for x in s.split(",")]
    )
    parser.add_argument("--backends", default=",".join(BACKENDS), type=lambda s: s.split(","))
    parser.add_argument(
        "--milvus-uri",
        default=None,
        help="A Milvus 2.5+ server for the milvus backend (default: Lite).",
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--words", type=int, default=130)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max-seconds", type=int, default=3600)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    return run_benchmark("bench_keyword_scaling", args, run, render)


if __name__ == "__main__":
    raise SystemExit(main())
