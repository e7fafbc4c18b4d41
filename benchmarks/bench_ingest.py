"""Ingestion throughput against the raw embedding model, on the same SciFact documents.

The claim under test: *ingestion runs at >= 80% of the raw model throughput*.

In one process, with all-MiniLM-L6-v2 loaded once (load time excluded everywhere), each
round measures, on the first ``--docs`` SciFact documents:

1. **raw (documents)** - ``SentenceTransformerEmbedder.embed`` (sentence-transformers
   ``encode``) over ``title + "\\n" + abstract`` of every document, which the model truncates
   at 256 tokens;
2. **ingest** - ``KnowledgeBase.ingest_items(corpus_items(...))`` into a fresh temporary home
   (SQLite + Milvus Lite + BM25), reusing the same loaded embedder. A fresh home has an empty
   embedding cache, so every chunk is embedded (checked: no cache hits);
3. **raw (chunks)** - the raw model, one ``encode`` call, over exactly the texts the pipeline
   embeds (chunks that fit 230 tokens, with overlap, each prefixed by the title).

The headline is ingest against **raw (chunks)**: the same texts through the bare model
versus through the whole pipeline (parse, chunk, hash, cache, store, Milvus, BM25), i.e. what
the pipeline adds beyond the model. Ingest against raw (documents) is reported too: most
SciFact abstracts are longer than the model's 256 tokens, so the bare model silently drops
their tails while the pipeline embeds all the text (about 1.6x the tokens), which is where
the dense nDCG@10 gain over the published figure comes from (docs/quality.md). tokens/s
counts the tokens the model actually sees. Results go to
``benchmarks/results/bench_ingest-<time>.json``.

    .venv/bin/python benchmarks/bench_ingest.py                 # 1,000 docs, 3 rounds
    .venv/bin/python benchmarks/bench_ingest.py --docs 200 --repeats 1   # a quick check
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from _common import (
    DEFAULT_DATA_DIR,
    BenchmarkError,
    Stopwatch,
    announce,
    bench_settings,
    corpus_texts,
    environment,
    load_average,
    median,
    peak_rss_mib,
    run_benchmark,
    scifact_paths,
    settings_summary,
    table,
    warn_if_busy,
)
from ddq.config import Settings
from ddq.eval.beir import corpus_items
from ddq.ingest.chunking import chunk_document
from ddq.ingest.pipeline import IngestReport, Outcome
from ddq.kb import KnowledgeBase
from ddq.models.base import Embedder, Vectors
from ddq.models.local import SentenceTransformerEmbedder, shipped_model_path

MODEL_NAME = "all-MiniLM-L6-v2"
TARGET_RATIO = 0.80
WORKSPACE = "bench"


class ProbedEmbedder(Embedder):
    """Delegates every call to one loaded embedder and adds up the time spent in it.

    Lets the report split ingestion time into model time and the pipeline's own work. It
    holds the same instance (same model, same batch sizes); ``--no-probe`` passes the bare one.
    """

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        self.max_batch_size = inner.max_batch_size
        self.embed_seconds = 0.0
        self.tokenize_seconds = 0.0
        self.embedded = 0

    def reset(self) -> None:
        self.embed_seconds = 0.0
        self.tokenize_seconds = 0.0
        self.embedded = 0

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        return self.inner.embed_batch(texts)

    def embed(self, texts: Sequence[str]) -> Vectors:
        started = time.perf_counter()
        vectors = self.inner.embed(texts)
        self.embed_seconds += time.perf_counter() - started
        self.embedded += len(texts)
        return vectors

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        started = time.perf_counter()
        counts = self.inner.count_tokens(texts)
        self.tokenize_seconds += time.perf_counter() - started
        return counts


@dataclass(slots=True)
class Round:
    round: int
    raw_seconds: float
    raw_docs_per_s: float
    raw_tokens_per_s: float
    ingest_seconds: float
    ingest_docs_per_s: float
    ingest_tokens_per_s: float
    ratio_docs: float
    ratio_tokens: float
    chunks: int
    embedded_texts: int
    cached_texts: int
    model_seconds_in_ingest: float | None
    tokenize_seconds_in_ingest: float | None
    pipeline_overhead_seconds: float | None
    chunk_raw_seconds: float | None
    chunk_raw_docs_per_s: float | None
    ratio_vs_chunk_raw: float | None
    peak_rss_mib: float


def max_seq_length(name: str) -> int:
    """The model's maximum sequence length, from its shipped sentence-transformers config."""
    config = shipped_model_path(name) / "sentence_bert_config.json"
    try:
        return int(json.loads(config.read_text(encoding="utf-8"))["max_seq_length"])
    except (OSError, KeyError, ValueError):
        return 256


def model_tokens(embedder: Embedder, texts: Sequence[str], limit: int) -> tuple[int, int]:
    """(tokens the model sees: +2 special tokens, truncated to ``limit``; untruncated total)."""
    counts = embedder.count_tokens(texts)
    seen = sum(min(n + 2, limit) for n in counts)
    return seen, sum(n + 2 for n in counts)


def pipeline_texts(corpus: Path, docs: int, settings: Settings, embedder: Embedder) -> list[str]:
    """The distinct texts the pipeline will embed: chunk the documents as it does."""
    texts: list[str] = []
    for item in corpus_items(corpus, docs):
        chunks = chunk_document(
            item.load(),
            max_tokens=settings.chunk_tokens,
            overlap_tokens=settings.chunk_overlap_tokens,
            count_tokens=embedder.count_tokens,
        )
        texts.extend(c.embedding_text for c in chunks)
    return list(dict.fromkeys(texts))


def check_report(report: IngestReport, docs: int) -> None:
    failed = [r for r in report.results if r.outcome is Outcome.FAILED]
    if failed:
        raise BenchmarkError(
            f"{len(failed)} documents failed to ingest, first: "
            f"{failed[0].source}: {failed[0].detail}"
        )
    added = report.count(Outcome.ADDED)
    if added != docs:
        raise BenchmarkError(f"expected {docs} documents added to a fresh home, got {added}")
    if report.cached_texts != 0:
        raise BenchmarkError(f"a fresh home hit the embedding cache {report.cached_texts} times")
    if report.embedded_texts <= 0:
        raise BenchmarkError("ingestion embedded no texts")


def ingest_once(
    corpus: Path, docs: int, root: Path, embedder: Embedder, keep: bool
) -> tuple[float, IngestReport, list[str]]:
    """Ingest into a fresh home under ``root``; (seconds, report, the stored chunk texts)."""
    home = Path(tempfile.mkdtemp(prefix="ddq-bench-ingest-", dir=root))
    try:
        settings = bench_settings(home, WORKSPACE)
        with KnowledgeBase(settings, embedder=embedder) as kb:
            with Stopwatch() as sw:
                report = kb.ingest_items(corpus_items(corpus, docs), total=docs)
            stored = [c.embedding_text for batch in kb.store.iter_chunks(WORKSPACE) for c in batch]
        return sw.seconds, report, stored
    finally:
        if keep:
            print(f"kept {home}", file=sys.stderr)
        else:
            shutil.rmtree(home, ignore_errors=True)


def run(args: argparse.Namespace) -> dict[str, Any]:
    files = scifact_paths(args.data)
    raw_texts = corpus_texts(files.corpus, args.docs)
    docs = len(raw_texts)
    if docs == 0:
        raise BenchmarkError(f"{files.corpus} holds no documents")
    root = Path(args.workdir) if args.workdir else Path(tempfile.gettempdir())
    root.mkdir(parents=True, exist_ok=True)
    settings = bench_settings(root / "unused", WORKSPACE)
    env_before = environment()
    warn_if_busy()

    embedder = SentenceTransformerEmbedder(MODEL_NAME, batch_size=settings.embedding_batch_size)
    with announce("loading the model"), Stopwatch() as load:
        embedder.embed(["warm up the model"])
    limit = max_seq_length(MODEL_NAME)
    chunk_texts = pipeline_texts(files.corpus, docs, settings, embedder)
    raw_tokens, raw_tokens_untruncated = model_tokens(embedder, raw_texts, limit)
    chunk_tokens, _ = model_tokens(embedder, chunk_texts, limit)
    probe = None if args.no_probe else ProbedEmbedder(embedder)
    used: Embedder = probe if probe is not None else embedder

    if not args.no_warmup:
        # Imports and first-use costs (pymilvus, Milvus Lite, bm25s, alembic), not throughput.
        with announce("warm-up (small encode and a 16-document ingest, not timed)"):
            embedder.embed(raw_texts[:64])
            ingest_once(files.corpus, min(16, docs), root, used, keep=False)

    rounds: list[Round] = []
    stored_match: bool | None = None
    for number in range(1, args.repeats + 1):
        with announce(f"round {number}: raw model, {docs} texts"), Stopwatch() as raw:
            embedder.embed(raw_texts)
        if probe is not None:
            probe.reset()
        with announce(f"round {number}: ingest {docs} documents into a fresh home"):
            ingest_seconds, report, stored = ingest_once(files.corpus, docs, root, used, args.keep)
        check_report(report, docs)
        if stored_match is None:
            stored_match = set(stored) == set(chunk_texts)
        chunk_raw: float | None = None
        if not args.skip_chunk_baseline:
            with (
                announce(
                    f"round {number}: raw model, the pipeline's {len(chunk_texts)} chunk texts"
                ),
                Stopwatch() as chunk_sw,
            ):
                embedder.embed(chunk_texts)
            chunk_raw = chunk_sw.seconds
        model_s = probe.embed_seconds if probe is not None else None
        rounds.append(
            Round(
                round=number,
                raw_seconds=raw.seconds,
                raw_docs_per_s=docs / raw.seconds,
                raw_tokens_per_s=raw_tokens / raw.seconds,
                ingest_seconds=ingest_seconds,
                ingest_docs_per_s=docs / ingest_seconds,
                ingest_tokens_per_s=chunk_tokens / ingest_seconds,
                ratio_docs=raw.seconds / ingest_seconds,
                ratio_tokens=(chunk_tokens / ingest_seconds) / (raw_tokens / raw.seconds),
                chunks=report.chunks_written,
                embedded_texts=report.embedded_texts,
                cached_texts=report.cached_texts,
                model_seconds_in_ingest=model_s,
                tokenize_seconds_in_ingest=probe.tokenize_seconds if probe is not None else None,
                pipeline_overhead_seconds=ingest_seconds - model_s if model_s is not None else None,
                chunk_raw_seconds=chunk_raw,
                chunk_raw_docs_per_s=docs / chunk_raw if chunk_raw else None,
                ratio_vs_chunk_raw=chunk_raw / ingest_seconds if chunk_raw else None,
                peak_rss_mib=peak_rss_mib(),
            )
        )

    ratios = [r.ratio_docs for r in rounds]
    token_ratios = [r.ratio_tokens for r in rounds]
    chunk_ratios = [r.ratio_vs_chunk_raw for r in rounds if r.ratio_vs_chunk_raw is not None]
    summary: dict[str, Any] = {
        "median_ratio_docs": median(ratios),
        "min_ratio_docs": min(ratios),
        "max_ratio_docs": max(ratios),
        "median_ratio_tokens": median(token_ratios),
        "median_ratio_vs_chunk_raw": median(chunk_ratios) if chunk_ratios else None,
        "median_raw_docs_per_s": median([r.raw_docs_per_s for r in rounds]),
        "median_ingest_docs_per_s": median([r.ingest_docs_per_s for r in rounds]),
        "target_ratio": TARGET_RATIO,
        "meets_target": (median(chunk_ratios) >= TARGET_RATIO) if chunk_ratios else None,
        "peak_rss_mib": peak_rss_mib(),
    }
    return {
        "parameters": {
            "docs": docs,
            "repeats": args.repeats,
            "data": str(files.corpus),
            "probe": probe is not None,
            "warmup": not args.no_warmup,
        },
        "settings": settings_summary(settings),
        "environment": env_before,
        "environment_after": {"load_average": load_average()},
        "model": {"name": MODEL_NAME, "load_seconds": load.seconds, "max_seq_length": limit},
        "workload": {
            "documents": docs,
            "raw_texts": docs,
            "raw_model_tokens": raw_tokens,
            "raw_tokens_untruncated": raw_tokens_untruncated,
            "raw_texts_truncated": sum(
                1 for n in embedder.count_tokens(raw_texts) if n + 2 > limit
            ),
            "pipeline_texts": len(chunk_texts),
            "pipeline_model_tokens": chunk_tokens,
            "pipeline_texts_match_store": stored_match,
        },
        "rounds": [asdict(r) for r in rounds],
        "summary": summary,
    }


def render(result: dict[str, Any]) -> str:
    w = result["workload"]
    s = result["summary"]
    rows = []
    for r in result["rounds"]:
        rows.append(
            [
                r["round"],
                r["raw_docs_per_s"],
                r["raw_tokens_per_s"],
                r["ingest_docs_per_s"],
                r["ingest_tokens_per_s"],
                r["ratio_docs"],
                r["ratio_tokens"],
                "-" if r["model_seconds_in_ingest"] is None else r["model_seconds_in_ingest"],
                "-" if r["pipeline_overhead_seconds"] is None else r["pipeline_overhead_seconds"],
                "-" if r["chunk_raw_docs_per_s"] is None else r["chunk_raw_docs_per_s"],
                "-" if r["ratio_vs_chunk_raw"] is None else r["ratio_vs_chunk_raw"],
            ]
        )
    last = result["rounds"][-1]
    lines = [
        f"SciFact, first {w['documents']} documents; model {result['model']['name']} "
        f"(loaded in {result['model']['load_seconds']:.1f} s, excluded); "
        f"torch threads {result['environment'].get('torch_threads')}; "
        f"load average before {result['environment']['load_average']}, after "
        f"{result['environment_after']['load_average']}",
        f"raw: {w['raw_texts']} texts, {w['raw_model_tokens']:,} model tokens "
        f"({w['raw_texts_truncated']} truncated at {result['model']['max_seq_length']}); "
        f"pipeline: {last['chunks']} chunks, {last['embedded_texts']} texts embedded, "
        f"{w['pipeline_model_tokens']:,} model tokens, cache hits {last['cached_texts']}; "
        f"chunk texts match the store: {w['pipeline_texts_match_store']}",
        "",
        table(
            [
                "round",
                "raw doc/s",
                "raw tok/s",
                "ingest doc/s",
                "ingest tok/s",
                "ratio docs",
                "ratio tok",
                "model s",
                "overhead s",
                "chunk-raw doc/s",
                "ingest/chunk-raw",
            ],
            rows,
        ),
        "",
        f"ingest/raw (docs/s): median {s['median_ratio_docs']:.3f} "
        f"(min {s['min_ratio_docs']:.3f}, max {s['max_ratio_docs']:.3f}); "
        f"tokens/s: median {s['median_ratio_tokens']:.3f}"
        + (
            f"; ingest/chunk-raw: median {s['median_ratio_vs_chunk_raw']:.3f}"
            if s["median_ratio_vs_chunk_raw"] is not None
            else ""
        ),
        f"target ingest / raw model on the same (chunk) texts >= {s['target_ratio']:.2f}: "
        + {True: "MET", False: "NOT MET", None: "not measured (--skip-chunk-baseline)"}[
            s["meets_target"]
        ]
        + f"; peak RSS {s['peak_rss_mib']:.0f} MiB",
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
        "--docs", type=int, default=1000, help="the first N SciFact documents (default 1000)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="rounds (default 3)")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where the temporary homes go (default: the system temp folder)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="JSON result file (default: benchmarks/results/bench_ingest-*.json)",
    )
    parser.add_argument(
        "--skip-chunk-baseline",
        action="store_true",
        help="skip the diagnostic raw run over the pipeline's chunk texts",
    )
    parser.add_argument(
        "--no-probe",
        action="store_true",
        help="pass the bare embedder (no model-time accounting inside ingest)",
    )
    parser.add_argument(
        "--no-warmup", action="store_true", help="skip the untimed warm-up encode and small ingest"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary homes")
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 3 when the target ratio is not met"
    )
    args = parser.parse_args(argv)
    if args.docs < 1 or args.repeats < 1:
        parser.error("--docs and --repeats must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return run_benchmark("bench_ingest", parse_args(argv), run, render)


if __name__ == "__main__":
    sys.exit(main())
