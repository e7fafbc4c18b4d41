"""sentence-transformers (torch) against the ONNX export, on the same shipped model: run by
ONNX Runtime in int8 (``--candidate onnx``, the default here) or by OpenVINO (``--candidate
openvino``, bf16 where the CPU has AMX, else f32).

The claim under test: *the onnx provider (all-MiniLM-L6-v2 exported from the shipped weights,
int8) embeds at least 2x as many questions and 1.5x as many passages per second as the
sentence-transformers path, with vectors at mean cosine >= 0.99 to it, and SciFact hybrid
nDCG@10 within 0.005*.

In one process, alternating the two embedders pass by pass (so a slow spell of the machine
hits both alike):

1. throughput, texts/s, embedding the judged SciFact test queries (short questions) and the
   first ``--docs`` corpus documents as ``title + abstract`` (passages; the model truncates at
   256 tokens, about the 230-token chunks ingestion makes), ``--repeats`` passes, median;
2. one question at a time (the retrieval path), p50/p95 over the queries;
3. per-text cosine between the two paths' vectors, mean and min;
4. with ``--ndcg``: ``ddq eval beir`` on SciFact for each (the real pipeline, a separate
   temporary home each; several minutes), nDCG@10 dense / BM25 / hybrid.

The ONNX export is made in a temporary data directory (``--cache-dir`` to keep or reuse one);
its making and a start from it are timed apart. Results go to
``benchmarks/results/bench_embedders-<time>.json``.

    .venv/bin/python benchmarks/bench_embedders.py
    .venv/bin/python benchmarks/bench_embedders.py --ndcg          # + SciFact nDCG@10
    .venv/bin/python benchmarks/bench_embedders.py --docs 50 --repeats 1 --queries 50
    .venv/bin/python benchmarks/bench_embedders.py --candidate openvino --ndcg
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from _common import (
    DEFAULT_DATA_DIR,
    LOCAL_MODEL,
    Stopwatch,
    announce,
    bench_settings,
    corpus_texts,
    environment,
    judged_queries,
    latency_summary,
    load_average,
    median,
    peak_rss_mib,
    run_benchmark,
    scifact_paths,
    table,
    warn_if_busy,
)
from ddq.models.base import Embedder
from ddq.models.local import SentenceTransformerEmbedder
from ddq.models.onnx import OnnxEmbedder
from ddq.models.openvino import OpenVinoEmbedder

MODEL_NAME = "all-MiniLM-L6-v2"
FLOOR_QUESTIONS_RATIO = 2.0
FLOOR_PASSAGES_RATIO = 1.5
FLOOR_MEAN_COSINE = 0.99
FLOOR_NDCG_DELTA = 0.005
#: A text alone vs in a batch (issue 22): the same vector, up to float rounding.
FLOOR_BATCH_COSINE = 0.99999
PATHS = ("torch", "onnx")


class PrintProgress:
    """Ingestion progress on stderr, every ``every`` documents."""

    def __init__(self, label: str, every: int = 500) -> None:
        self.label, self.every = label, every
        self.total = self.done = 0
        self.started = 0.0

    def start(self, total: int) -> None:
        self.total, self.done, self.started = total, 0, time.perf_counter()

    def advance(self, label: str) -> None:
        self.done += 1
        if self.done % self.every == 0 or self.done == self.total:
            rate = self.done / max(time.perf_counter() - self.started, 1e-9)
            print(
                f"  {self.label}: {self.done}/{self.total} documents ({rate:.1f}/s)",
                file=sys.stderr,
                flush=True,
            )

    def finish(self) -> None:
        pass


def throughput(embedder: Embedder, texts: Sequence[str]) -> tuple[float, np.ndarray]:
    started = time.perf_counter()
    vectors = embedder.embed(texts)
    return len(texts) / (time.perf_counter() - started), vectors


def one_at_a_time(embedder: Embedder, texts: Sequence[str]) -> list[float]:
    seconds = []
    for text in texts:
        started = time.perf_counter()
        embedder.embed_one(text)
        seconds.append(time.perf_counter() - started)
    return seconds


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", a, b)


def cosine_summary(values: np.ndarray) -> dict[str, float]:
    return {
        "mean": float(values.mean()),
        "min": float(values.min()),
        "p01": float(np.percentile(values, 1)),
    }


def package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def beir_ndcg(data: Path, model: str, export: Path | None, docs: int | None) -> dict[str, Any]:
    """``ddq eval beir`` on SciFact with ``model`` (resolved by the registry, as the product
    does), in a fresh temporary home. For the onnx model the export made above is copied in
    first, so the ingestion time measures embedding, not a second export."""
    from ddq.eval.beir import run_beir

    with tempfile.TemporaryDirectory(prefix="ddq-bench-embedders-") as scratch:
        home = Path(scratch)
        if export is not None:
            shutil.copytree(export, home / "models" / "onnx" / export.name)
        base = bench_settings(home, "eval").model_copy(update={"embedder": model})
        with announce(f"SciFact eval with {model}"):
            result = run_beir(
                data / "scifact",
                base_settings=base,
                home=home,
                limit_docs=docs,
                progress=PrintProgress(model),
            )
    keys = (
        "embedding_model",
        "documents",
        "failed_documents",
        "chunks",
        "queries",
        "ingest_seconds",
        "search_seconds",
        "dense",
        "bm25",
        "hybrid",
    )
    return {k: result.get(k) for k in keys}


def run(args: argparse.Namespace) -> dict[str, Any]:
    files = scifact_paths(args.data)
    questions = [text for _, text in judged_queries(files, args.queries)]
    passages = corpus_texts(files.corpus, args.docs)
    env_before = environment()
    env_before["packages"].update(
        {
            name: package_version(name)
            for name in ("onnxruntime", "onnx", "openvino", "tokenizers", "transformers")
        }
    )
    warn_if_busy()

    cache_dir: Path = args.cache_dir or Path(tempfile.mkdtemp(prefix="ddq-bench-onnx-"))
    scratch = None if args.cache_dir else cache_dir
    try:
        torch_model = SentenceTransformerEmbedder(MODEL_NAME, batch_size=args.batch_size)
        with announce("loading sentence-transformers"), Stopwatch() as torch_load:
            torch_model.embed(["warm up the model"])
        first = OnnxEmbedder(MODEL_NAME, cache_dir=cache_dir, batch_size=args.batch_size)
        with announce("making (or finding) the ONNX export"), Stopwatch() as export:
            first.embed(["warm up the model"])
        del first
        onnx_model: OnnxEmbedder
        if args.candidate == "openvino":
            onnx_model = OpenVinoEmbedder(
                MODEL_NAME, cache_dir=cache_dir, batch_size=args.batch_size
            )
        else:
            onnx_model = OnnxEmbedder(MODEL_NAME, cache_dir=cache_dir, batch_size=args.batch_size)
        with (
            announce(f"starting {onnx_model.runtime_name} from the export"),
            Stopwatch() as onnx_load,
        ):
            onnx_model.embed(["warm up the model"])
        models: dict[str, Embedder] = {"torch": torch_model, "onnx": onnx_model}
        for path in PATHS:
            with announce(f"{path}: warm-up on a few texts of each kind (not counted)"):
                models[path].embed(questions[:64])
                models[path].embed(passages[:16])

        rates: dict[str, dict[str, list[float]]] = {
            p: {"questions": [], "passages": []} for p in PATHS
        }
        vectors: dict[str, dict[str, np.ndarray]] = {p: {} for p in PATHS}
        for number in range(args.repeats):
            order = PATHS if number % 2 == 0 else PATHS[::-1]
            for path in order:
                for kind, texts in (("questions", questions), ("passages", passages)):
                    with announce(f"pass {number + 1}: {path}, {len(texts)} {kind}"):
                        rate, vecs = throughput(models[path], texts)
                    rates[path][kind].append(rate)
                    vectors[path][kind] = vecs

        latency: dict[str, dict[str, float]] = {}
        for path in PATHS:
            with announce(f"{path}: {args.latency} questions one at a time"):
                one_at_a_time(models[path], questions[:5])  # settle the thread setting
                latency[path] = latency_summary(
                    one_at_a_time(models[path], questions[: args.latency])
                )

        # The same texts alone (as `ask` embeds a question) against the batched pass above.
        alone_count = {
            "questions": min(args.latency, len(questions)),
            "passages": min(20, len(passages)),
        }
        independence: dict[str, dict[str, float]] = {}
        for kind, texts in (("questions", questions), ("passages", passages)):
            count = alone_count[kind]
            with announce(f"onnx: {count} {kind} alone vs in their batches"):
                alone = np.vstack([onnx_model.embed_one(t) for t in texts[:count]])
            batched = vectors["onnx"][kind][:count]
            independence[kind] = {
                "texts": count,
                "min_cosine": float(cosines(alone, batched).min()),
                "max_abs_diff": float(np.abs(alone - batched).max()),
            }

        ndcg: dict[str, Any] | None = None
        if args.ndcg:
            ndcg = {
                "torch": beir_ndcg(args.data, LOCAL_MODEL, None, args.ndcg_docs),
                "onnx": beir_ndcg(
                    args.data, onnx_model.model_id, onnx_model.directory, args.ndcg_docs
                ),
            }
        tokens = onnx_model.count_tokens(passages)
        question_tokens = onnx_model.count_tokens(questions)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)

    medians = {p: {k: median(v) for k, v in rates[p].items()} for p in PATHS}
    ratios = {k: medians["onnx"][k] / medians["torch"][k] for k in ("questions", "passages")}
    per_text = {
        k: cosines(vectors["onnx"][k], vectors["torch"][k]) for k in ("questions", "passages")
    }
    all_cosines = np.concatenate(list(per_text.values()))
    checks = {
        "questions_ratio": ratios["questions"] >= FLOOR_QUESTIONS_RATIO,
        "passages_ratio": ratios["passages"] >= FLOOR_PASSAGES_RATIO,
        "mean_cosine": float(all_cosines.mean()) >= FLOOR_MEAN_COSINE,
        "batch_independent": min(v["min_cosine"] for v in independence.values())
        >= FLOOR_BATCH_COSINE,
    }
    ndcg_delta = None
    if ndcg is not None:
        ndcg_delta = ndcg["onnx"]["hybrid"]["ndcg@10"] - ndcg["torch"]["hybrid"]["ndcg@10"]
        checks["ndcg_delta"] = abs(ndcg_delta) <= FLOOR_NDCG_DELTA
    return {
        "parameters": {
            "candidate": args.candidate,
            "queries": len(questions),
            "docs": len(passages),
            "repeats": args.repeats,
            "batch_size": args.batch_size,
            "latency_questions": args.latency,
            "ndcg": args.ndcg,
            "ndcg_docs": args.ndcg_docs,
            "data": str(files.directory),
            "question_tokens_mean": float(np.mean(question_tokens)),
            "passage_tokens_mean_truncated": float(np.mean(np.minimum(tokens, 256))),
            "passages_over_256_tokens": int(sum(t > 256 for t in tokens)),
        },
        "environment": env_before,
        "environment_after": {"load_average": load_average()},
        "models": {
            "torch": {"model_id": torch_model.model_id, "load_seconds": torch_load.seconds},
            "onnx": {
                "model_id": onnx_model.model_id,
                "export_seconds": export.seconds,
                "start_seconds": onnx_load.seconds,
            },
        },
        "throughput": {p: {k: v for k, v in rates[p].items()} for p in PATHS},
        "throughput_median": medians,
        "ratios": ratios,
        "one_question": latency,
        "cosine": {
            **{k: cosine_summary(v) for k, v in per_text.items()},
            "all": cosine_summary(all_cosines),
        },
        "batch_independence": independence,
        "ndcg": ndcg,
        "summary": {
            "questions_ratio": ratios["questions"],
            "passages_ratio": ratios["passages"],
            "mean_cosine": float(all_cosines.mean()),
            "min_cosine": float(all_cosines.min()),
            "hybrid_ndcg_delta": ndcg_delta,
            "checks": checks,
            "meets_target": all(checks.values()),
            "peak_rss_mib": peak_rss_mib(),
        },
    }


def render(result: dict[str, Any]) -> str:
    m, s, p = result["throughput_median"], result["summary"], result["parameters"]
    lat, cos = result["one_question"], result["cosine"]

    def verdict(key: str) -> str:
        return "ok" if s["checks"][key] else "MISSED"

    rows: list[list[object]] = [
        [
            "questions/s (median)",
            m["torch"]["questions"],
            m["onnx"]["questions"],
            f"{s['questions_ratio']:.2f}x",
            f">= {FLOOR_QUESTIONS_RATIO}x",
            verdict("questions_ratio"),
        ],
        [
            "passages/s (median)",
            m["torch"]["passages"],
            m["onnx"]["passages"],
            f"{s['passages_ratio']:.2f}x",
            f">= {FLOOR_PASSAGES_RATIO}x",
            verdict("passages_ratio"),
        ],
        [
            "one question p50 ms",
            lat["torch"]["p50_ms"],
            lat["onnx"]["p50_ms"],
            f"{lat['onnx']['p50_ms'] / lat['torch']['p50_ms']:.2f}x",
            "",
            "",
        ],
        [
            "one question p95 ms",
            lat["torch"]["p95_ms"],
            lat["onnx"]["p95_ms"],
            f"{lat['onnx']['p95_ms'] / lat['torch']['p95_ms']:.2f}x",
            "",
            "",
        ],
        [
            "cosine, questions",
            "ref",
            f"{cos['questions']['mean']:.4f} (min {cos['questions']['min']:.4f})",
            "",
            "",
            "",
        ],
        [
            "cosine, passages",
            "ref",
            f"{cos['passages']['mean']:.4f} (min {cos['passages']['min']:.4f})",
            "",
            "",
            "",
        ],
        [
            "cosine, all (mean)",
            "ref",
            f"{s['mean_cosine']:.4f}",
            "",
            f">= {FLOOR_MEAN_COSINE}",
            verdict("mean_cosine"),
        ],
        [
            "alone vs batched, min cosine",
            "",
            " / ".join(
                f"{v['min_cosine']:.7f} ({v['texts']} {k}, max diff {v['max_abs_diff']:.1e})"
                for k, v in result["batch_independence"].items()
            ),
            "",
            f">= {FLOOR_BATCH_COSINE}",
            verdict("batch_independent"),
        ],
    ]
    ndcg = result["ndcg"]
    if ndcg is not None:
        for method in ("dense", "bm25", "hybrid"):
            t, o = ndcg["torch"][method]["ndcg@10"], ndcg["onnx"][method]["ndcg@10"]
            rows.append(
                [
                    f"nDCG@10 {method}",
                    f"{t:.4f}",
                    f"{o:.4f}",
                    f"{o - t:+.4f}",
                    f"+-{FLOOR_NDCG_DELTA}" if method == "hybrid" else "",
                    verdict("ndcg_delta") if method == "hybrid" else "",
                ]
            )
        rows.append(
            [
                "SciFact ingest s",
                ndcg["torch"]["ingest_seconds"],
                ndcg["onnx"]["ingest_seconds"],
                f"{ndcg['torch']['ingest_seconds'] / ndcg['onnx']['ingest_seconds']:.2f}x faster",
                "",
                "",
            ]
        )
    models = result["models"]
    lines = [
        f"{p['queries']} SciFact questions (~{p['question_tokens_mean']:.0f} tokens) and "
        f"{p['docs']} passages (~{p['passage_tokens_mean_truncated']:.0f} tokens after "
        f"truncation), {p['repeats']} alternating passes, batch size {p['batch_size']}",
        f"sentence-transformers loaded in {models['torch']['load_seconds']:.1f} s; ONNX export "
        f"{models['onnx']['export_seconds']:.1f} s, start from the export "
        f"{models['onnx']['start_seconds']:.2f} s; load average before "
        f"{result['environment']['load_average']}, after "
        f"{result['environment_after']['load_average']}",
        "",
        table(
            [
                "",
                "sentence-transformers",
                result["models"]["onnx"]["model_id"],
                "ratio",
                "floor",
                "",
            ],
            rows,
        ),
        "",
        f"per pass, texts/s: torch q {fmt(result['throughput']['torch']['questions'])} "
        f"p {fmt(result['throughput']['torch']['passages'])}; onnx q "
        f"{fmt(result['throughput']['onnx']['questions'])} p "
        f"{fmt(result['throughput']['onnx']['passages'])}",
        f"{'all floors met' if s['meets_target'] else 'FLOORS MISSED'}"
        f"{'' if ndcg is not None else ' (nDCG not run: --ndcg)'}; peak RSS "
        f"{s['peak_rss_mib']:.0f} MiB",
    ]
    return "\n".join(lines)


def fmt(values: Sequence[float]) -> str:
    return "/".join(f"{v:.0f}" if v >= 100 else f"{v:.1f}" for v in values)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="folder holding scifact/ (default: ../shared/data from the repo)",
    )
    parser.add_argument(
        "--queries",
        type=int,
        default=None,
        help="only the first N judged test queries (default: all 300)",
    )
    parser.add_argument(
        "--docs", type=int, default=300, help="passages: the first N corpus documents (default 300)"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="alternating throughput passes per embedder (default 3)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=64,
        help="embedding batch size for both (default 64, the product default)",
    )
    parser.add_argument(
        "--latency",
        type=int,
        default=100,
        help="questions embedded one at a time per embedder (default 100)",
    )
    parser.add_argument(
        "--ndcg",
        action="store_true",
        help="also run the SciFact retrieval eval for both (several minutes)",
    )
    parser.add_argument(
        "--ndcg-docs",
        type=int,
        default=None,
        help="with --ndcg: index only the first N documents (default: all)",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="data directory for the ONNX export, kept and reused (default: a temporary one)",
    )
    parser.add_argument(
        "--candidate",
        choices=("onnx", "openvino"),
        default="onnx",
        help="the export's runtime set against sentence-transformers: onnx (ONNX Runtime, "
        "int8) or openvino (the fp32 graph, bf16 where the CPU has AMX); default onnx",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="JSON result file (default: benchmarks/results/bench_embedders-*.json)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 3 when a floor is missed"
    )
    args = parser.parse_args(argv)
    if min(args.repeats, args.docs, args.batch_size, args.latency) < 1 or (
        args.queries is not None and args.queries < 1
    ):
        parser.error("--queries, --docs, --repeats, --batch-size and --latency must be >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return run_benchmark("bench_embedders", parse_args(argv), run, render)


if __name__ == "__main__":
    sys.exit(main())
