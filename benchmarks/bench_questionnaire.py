"""Answering a whole questionnaire as a batched job vs one question at a time.

The claim under test: *answering a 500-question questionnaire on the SciFact knowledge base,
batched, is at least 3x faster than answering the same questions one by one through the
single-question path*, in one run.

The questionnaire is a CSV of the first ``--questions`` SciFact queries (test and train, in
file order), written to a temporary folder. With the model loaded once and shared (its load
is excluded from both sides), each repeat times:

- **one by one**: ``kb.ask(q)`` for every question in turn, the path ``ddq ask`` takes
  (retrieval of one question, then the answerer on it);
- **batched**: the ``ddq answer FILE`` path: extract the file, store the job, then answer in
  batches of ``--batch-size`` (one embedding call and one index search per batch, evidence
  units embedded once per batch) with every draft committed to SQLite as it is made.

Each side gets a fresh ``KnowledgeBase`` (so no in-memory cache carries over) and a cold
store: the SQLite database is restored from a snapshot taken after indexing, so neither side
finds the evidence-sentence vectors the other one cached. The order of the two alternates
between repeats, and the verdict is the median of the per-repeat ratios. The two paths must
give the same answers; the agreement is reported.

Then the **warm** case, ``--repeats`` times too (order alternating, median of the ratios): a
knowledge base that has answered a questionnaire before (its persistent embedding cache holds
the evidence-sentence vectors), both sides again.

    .venv/bin/python benchmarks/bench_questionnaire.py --home /tmp/ddq-scifact
    .venv/bin/python benchmarks/bench_questionnaire.py --home /tmp/ddq-scifact --questions 50 \
        --repeats 1

``--home`` takes an index built by ``bench_retrieval.py --home DIR`` (same ``--workspace``),
or builds one there (several minutes).
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _common import (
    DEFAULT_DATA_DIR,
    BenchmarkError,
    Stopwatch,
    announce,
    bench_settings,
    environment,
    load_average,
    median,
    peak_rss_mib,
    run_benchmark,
    scifact_paths,
    scifact_questions,
    settings_summary,
    table,
    warn_if_busy,
    write_questionnaire,
)
from bench_retrieval import WORKSPACE, build_index
from ddq.config import Settings
from ddq.domain import Answer
from ddq.jobs.job import QuestionnaireJob
from ddq.kb import KnowledgeBase
from ddq.models.base import Embedder
from ddq.models.registry import embedder_for

TARGET_SPEEDUP = 3.0


class ColdStore:
    """The store as it was after indexing, put back before each timed side."""

    def __init__(self, database: Path, snapshot: Path) -> None:
        self.database = database
        self.snapshot = snapshot
        with sqlite3.connect(database) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            # Ingestion caches one vector per chunk and library question; more means this
            # home has answered questions before, and its "cold" store would hold the very
            # evidence vectors the cold measurement must compute.
            cached = conn.execute("SELECT count(*) FROM embeddings").fetchone()[0]
            indexed = (conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
                       + conn.execute("SELECT count(*) FROM library_entries").fetchone()[0])
        if cached > indexed:
            raise BenchmarkError(
                f"{database} caches {cached:,} vectors for {indexed:,} indexed texts: this home "
                "has answered questions outside the benchmark, so its store is not cold; "
                "pass a fresh --home (the index is rebuilt there)")
        shutil.copy2(database, snapshot)

    def restore(self) -> None:
        for suffix in ("-wal", "-shm"):
            Path(f"{self.database}{suffix}").unlink(missing_ok=True)
        shutil.copy2(self.snapshot, self.database)


def one_by_one(settings: Settings, embedder: Embedder,
               questions: Sequence[str]) -> tuple[float, list[Answer]]:
    with KnowledgeBase(settings, embedder=embedder) as kb:
        kb.retriever  # noqa: B018 - open Milvus and BM25 outside the clock, as the job does
        kb.keyword_index.size  # noqa: B018
        started = time.perf_counter()
        answers = [kb.ask(q) for q in questions]
        return time.perf_counter() - started, answers


def batched(settings: Settings, embedder: Embedder, path: Path,
            batch_size: int) -> tuple[float, list[tuple[str, str, str | None]]]:
    with KnowledgeBase(settings, embedder=embedder) as kb:
        kb.retriever  # noqa: B018
        kb.keyword_index.size  # noqa: B018
        started = time.perf_counter()
        job = QuestionnaireJob(kb, batch_size=batch_size)
        info, created = job.open(path)
        if not created:
            raise BenchmarkError(f"{path} was answered before; the batched run must be fresh")
        result = job.run(info)
        seconds = time.perf_counter() - started
        if result.progress.remaining:
            raise BenchmarkError(f"the job left {result.progress.remaining} questions")
        questions = job.store.questions(info.id)
        drafts = job.store.drafts(info.id)
        return seconds, [(drafts[q.id].status.value, drafts[q.id].text, drafts[q.id].stance)
                         for q in questions]


def run(args: argparse.Namespace) -> dict[str, Any]:
    files = scifact_paths(args.data)
    questions = scifact_questions(files.queries, args.questions)
    env_before = environment()
    warn_if_busy()
    scratch = Path(tempfile.mkdtemp(prefix="ddq-bench-questionnaire-"))
    home = args.home or scratch / "home"
    try:
        settings = bench_settings(home, args.workspace).model_copy(
            update={"embedder": args.embedder})
        embedder = embedder_for(settings)
        with announce("loading the model"), Stopwatch() as load:
            embedder.embed(["warm up the model"])
        with KnowledgeBase(settings, embedder=embedder) as kb:
            index = build_index(kb, files.corpus, args.docs)
        cold = ColdStore(settings.home / "ddq.sqlite3", scratch / "cold.sqlite3")

        def measure(number: int | str, order: tuple[str, str], restore: bool
                    ) -> dict[str, Any]:
            path = write_questionnaire(scratch, questions, f"R{number}-{time.time_ns()}")
            timings: dict[str, float] = {}
            for side in order:
                if restore:
                    cold.restore()
                label = (f"repeat {number}: {len(questions)} questions "
                         + ("one by one" if side == "single" else
                            f"as a job, batches of {args.batch_size}"))
                with announce(label):
                    if side == "single":
                        timings["single"], single = one_by_one(settings, embedder, questions)
                    else:
                        timings["batched"], job = batched(settings, embedder, path,
                                                          args.batch_size)
            same = sum(1 for a, (status, text, stance) in zip(single, job, strict=True)
                       if (a.status.value, a.text, a.stance) == (status, text, stance))
            return {
                "order": list(order),
                "single_seconds": timings["single"],
                "batched_seconds": timings["batched"],
                "speedup": timings["single"] / timings["batched"],
                "single_questions_per_s": len(questions) / timings["single"],
                "batched_questions_per_s": len(questions) / timings["batched"],
                "identical_answers": same,
                "answered": sum(1 for s, _, _ in job if s != "needs_input"),
            }

        repeats = [
            measure(n, ("single", "batched") if n % 2 else ("batched", "single"), True)
            for n in range(1, args.repeats + 1)
        ]
        warm = None
        if args.warm:
            cold.restore()
            with announce("warming the evidence cache with one job"):
                batched(settings, embedder,
                        write_questionnaire(scratch, questions, f"W-{time.time_ns()}"),
                        args.batch_size)
            warm = [measure(f"warm {n}", ("single", "batched") if n % 2 else
                            ("batched", "single"), False)
                    for n in range(1, args.repeats + 1)]
        cold.restore()  # leave the home as it was found
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    speedup = median([r["speedup"] for r in repeats])
    return {
        "parameters": {"questions": len(questions), "repeats": args.repeats,
                       "batch_size": args.batch_size, "home": str(args.home),
                       "data": str(files.directory)},
        "settings": settings_summary(settings),
        "environment": env_before,
        "environment_after": {"load_average": load_average()},
        "model": {"name": embedder.model_id, "load_seconds": load.seconds},
        "index": index,
        "repeats": repeats,
        "warm": warm,
        "summary": {
            "median_speedup": speedup,
            "median_single_seconds": median([r["single_seconds"] for r in repeats]),
            "median_batched_seconds": median([r["batched_seconds"] for r in repeats]),
            "target_speedup": TARGET_SPEEDUP,
            "meets_target": speedup >= TARGET_SPEEDUP,
            "warm_median_speedup": median([r["speedup"] for r in warm]) if warm else None,
            "peak_rss_mib": peak_rss_mib(),
        },
    }


def warm_line(warm: list[dict[str, Any]], questions: int) -> str:
    ratios = ", ".join(f"{r['speedup']:.2f}x" for r in warm)
    return (f"warm evidence cache (a second questionnaire on the same knowledge base), "
            f"{len(warm)} repeats: one by one {median([r['single_seconds'] for r in warm]):.1f} s, "
            f"batched {median([r['batched_seconds'] for r in warm]):.1f} s, median speedup "
            f"{median([r['speedup'] for r in warm]):.2f}x ({ratios}); same answers at least "
            f"{min(r['identical_answers'] for r in warm)}/{questions}")


def render(result: dict[str, Any]) -> str:
    ix = result["index"]
    p = result["parameters"]
    s = result["summary"]
    lines = [
        f"SciFact index: {ix['documents']} documents, {ix['chunks']} chunks; "
        f"{p['questions']} questions; batch size {p['batch_size']}; model load "
        f"{result['model']['load_seconds']:.1f} s (excluded); load average before "
        f"{result['environment']['load_average']}, after "
        f"{result['environment_after']['load_average']}",
        "",
        table(
            ["repeat", "first", "one by one s", "q/s", "batched s", "q/s", "speedup",
             "same answers", "answered"],
            [[i, r["order"][0], r["single_seconds"], r["single_questions_per_s"],
              r["batched_seconds"], r["batched_questions_per_s"], r["speedup"],
              f"{r['identical_answers']}/{p['questions']}", r["answered"]]
             for i, r in enumerate(result["repeats"], start=1)],
        ),
        "",
        *([warm_line(w, p["questions"]), ""] if (w := result.get("warm")) else []),
        f"median speedup {s['median_speedup']:.2f}x (target >= {s['target_speedup']:.0f}x): "
        f"{'MET' if s['meets_target'] else 'NOT MET'}; one by one "
        f"{s['median_single_seconds']:.1f} s, batched {s['median_batched_seconds']:.1f} s; "
        f"peak RSS {s['peak_rss_mib']:.0f} MiB",
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR,
                        help="folder holding scifact/ (default: ../shared/data from the repo)")
    parser.add_argument("--home", type=Path, default=None,
                        help="reuse (or build) the SciFact index here (default: a temporary "
                        "home, built and deleted)")
    parser.add_argument("--workspace", default=WORKSPACE, help="workspace of the index")
    parser.add_argument("--embedder", default=Settings().embedder,
                        help="provider:model (default: DDQ's default, %(default)s)")
    parser.add_argument("--docs", type=int, default=None,
                        help="index only the first N documents (default: all 5,183)")
    parser.add_argument("--questions", type=int, default=500,
                        help="questions in the questionnaire (default 500)")
    parser.add_argument("--batch-size", type=int, default=32, help="job batch size (default 32)")
    parser.add_argument("--repeats", type=int, default=3, help="repeats (default 3)")
    parser.add_argument("--output", type=Path, default=None, help="JSON result file")
    parser.add_argument("--no-warm", dest="warm", action="store_false",
                        help="skip the warm-cache measurement")
    parser.add_argument("--strict", action="store_true",
                        help="exit 3 when the median speedup misses the target")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    return run_benchmark("bench_questionnaire", parse_args(argv), run, render)


if __name__ == "__main__":
    sys.exit(main())
