"""Shared helpers for the benchmark scripts: data paths, timing, statistics, result files.

The public data sets live beside the project (``../shared/data`` from the repository root)
and are read by path, never copied into the repository. Results are written as JSON under
``benchmarks/results/`` (git-ignored).
"""

from __future__ import annotations

import csv
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from ddq.config import Settings, load_settings
from ddq.eval.beir import load_qrels

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data"
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
LOCAL_MODEL = "local:all-MiniLM-L6-v2"


class BenchmarkError(Exception):
    """An expected failure (missing data, a failed check): printed as one line, exit 1."""


# --- data ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SciFact:
    directory: Path
    corpus: Path
    queries: Path
    qrels: Path


def scifact_paths(data_dir: Path, split: str = "test") -> SciFact:
    """The SciFact files under ``data_dir``; a clear error if the data folder is missing."""
    directory = data_dir / "scifact"
    files = SciFact(
        directory=directory,
        corpus=directory / "corpus.jsonl",
        queries=directory / "queries.jsonl",
        qrels=directory / "qrels" / f"{split}.tsv",
    )
    missing = [p for p in (files.corpus, files.queries, files.qrels) if not p.is_file()]
    if missing:
        where = "\n  ".join(str(p) for p in missing)
        raise BenchmarkError(
            f"SciFact data not found:\n  {where}\n"
            f"The public data is read by path, by default from {DEFAULT_DATA_DIR} "
            "(../shared/data relative to the repository root); it is never copied into the "
            "repository. Put the BEIR SciFact folder (corpus.jsonl, queries.jsonl, qrels/) "
            "there, or pass --data DIR pointing at the folder that contains scifact/."
        )
    return files


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def corpus_texts(path: Path, limit: int | None) -> list[str]:
    """``title + "\\n" + abstract`` for the first ``limit`` documents (as ``corpus_items``)."""
    texts: list[str] = []
    for record in read_jsonl(path):
        if limit is not None and len(texts) >= limit:
            break
        title = str(record.get("title") or "").strip()
        text = str(record.get("text") or "").strip()
        texts.append(f"{title}\n{text}")
    return texts


def judged_queries(files: SciFact, limit: int | None = None) -> list[tuple[str, str]]:
    """(query id, text) for the queries judged in the split's qrels, in file order."""
    qrels = load_qrels(files.qrels)
    queries = [
        (str(q["_id"]), str(q["text"])) for q in read_jsonl(files.queries) if str(q["_id"]) in qrels
    ]
    if not queries:
        raise BenchmarkError(f"no queries in {files.queries} are judged in {files.qrels}")
    return queries[:limit] if limit is not None else queries


def relevant_docs(files: SciFact) -> dict[str, set[str]]:
    return {
        q: {d for d, score in docs.items() if score > 0}
        for q, docs in load_qrels(files.qrels).items()
    }


# --- settings --------------------------------------------------------------------------------


def bench_settings(home: Path, workspace: str = "bench") -> Settings:
    """Settings for a benchmark home: SQLite + Milvus Lite under ``home``, the local model.

    Starts from the usual settings (defaults, config file, DDQ_* variables) so chunking and
    retrieval parameters match what the product uses, but always keeps state under ``home``.
    """
    base = load_settings()
    return base.model_copy(
        update={
            "home": home,
            "database_url": None,
            "milvus_uri": None,
            "workspace": workspace,
            "embedder": LOCAL_MODEL,
        }
    )


def settings_summary(settings: Settings) -> dict[str, Any]:
    keys = (
        "embedder",
        "embedding_batch_size",
        "chunk_tokens",
        "chunk_overlap_tokens",
        "retrieval_top_k",
        "candidate_k",
        "rrf_k",
        "dense_weight",
        "keyword_weight",
    )
    return {k: getattr(settings, k) for k in keys}


# --- timing and statistics -------------------------------------------------------------------


class Stopwatch:
    """``with Stopwatch() as sw: ...`` then ``sw.seconds``."""

    def __init__(self) -> None:
        self.started = 0.0
        self.seconds = 0.0

    def __enter__(self) -> Stopwatch:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *_: object) -> None:
        self.seconds = time.perf_counter() - self.started


@contextmanager
def announce(label: str) -> Iterator[None]:
    """Print ``label ...`` then the elapsed time, to stderr (progress, not results)."""
    print(f"{label} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    yield
    print(f"{label}: {time.perf_counter() - started:.2f} s", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), linear interpolation between closest ranks."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/mean/min/max of latencies, in milliseconds."""
    ms = [s * 1000.0 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "p99_ms": percentile(ms, 99),
        "mean_ms": statistics.fmean(ms),
        "min_ms": min(ms),
        "max_ms": max(ms),
    }


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


# --- environment and output ------------------------------------------------------------------


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def cpu() -> dict[str, Any]:
    """The CPU kind, as ``lscpu`` names it, and the flags that decide which kernels run
    (AVX2, AVX-512 and its bf16/VNNI parts, AMX): a figure without them cannot be compared."""
    model, flags = platform.processor() or "unknown", []
    try:
        output = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10,
                                check=False).stdout
    except (OSError, subprocess.SubprocessError):
        output = ""
    for line in output.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Model name":
            model = value.strip()
        elif key.strip() == "Flags":
            flags = [f for f in value.split()
                     if f.startswith(("avx2", "avx512", "amx", "avx_vnni", "fma"))]
    return {"model": model, "flags": sorted(flags)}


def environment() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu(),
        "cpu_count": os.cpu_count(),
        "load_average": load_average(),
        "packages": {
            name: _version(name)
            for name in (
                "ddq",
                "torch",
                "sentence-transformers",
                "pymilvus",
                "milvus-lite",
                "bm25s",
                "numpy",
            )
        },
    }
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
    except ImportError:
        pass
    return info


def warn_if_busy() -> None:
    """Say so when the machine is already busy: the figures would be noisy."""
    loads = load_average()
    cores = os.cpu_count() or 1
    if loads and loads[0] > 0.5 * cores:
        print(
            f"note: load average {loads[0]:.2f} on {cores} cores before starting; other work "
            "competes for the CPU and the figures will be noisy",
            file=sys.stderr,
        )


def write_result(name: str, payload: dict[str, Any], output: Path | None = None) -> Path:
    """Write ``payload`` as JSON to ``output`` or ``benchmarks/results/<name>-<time>.json``."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = output or RESULTS_DIR / f"{name}-{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"benchmark": name, "finished_at": stamp, **payload}
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain fixed-width text table; floats with 1-3 decimals depending on size."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            if abs(value) >= 100:
                return f"{value:,.0f}"
            if abs(value) >= 10:
                return f"{value:.1f}"
            return f"{value:.3f}" if abs(value) < 1 else f"{value:.2f}"
        return str(value)

    cells = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells)
    return "\n".join(lines)


def run_benchmark(
    name: str,
    args: Any,
    run: Callable[[Any], dict[str, Any]],
    render: Callable[[dict[str, Any]], str],
) -> int:
    """Run, print, save; exit status 1 on an expected failure, 3 on a missed --strict target."""
    from ddq.errors import DDQError

    try:
        result = run(args)
    except (BenchmarkError, DDQError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(render(result))
    path = write_result(name, result, args.output)
    print(f"\nresults: {path}")
    if args.strict and not result["summary"]["meets_target"]:
        return 3
    return 0


# --- questionnaires made of SciFact queries ------------------------------------------------


def scifact_questions(queries: Path, limit: int) -> list[str]:
    texts = [str(q["text"]).strip() for q in read_jsonl(queries)]
    texts = [t for t in texts if t]
    if len(texts) < limit:
        raise BenchmarkError(f"{queries} has {len(texts)} queries; --questions {limit} asked")
    return texts[:limit]


def write_questionnaire(folder: Path, questions: Sequence[str], tag: str) -> Path:
    """A questionnaire file as a customer would send it; ``tag`` makes each repeat a new
    file (a new job) rather than a resumed one."""
    path = folder / f"scifact-questionnaire-{tag}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ID", "Question"])
        for number, question in enumerate(questions, start=1):
            writer.writerow([f"{tag}-{number:04d}", question])
    return path
