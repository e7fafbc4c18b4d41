"""Profiles of DDQ's three hot paths: ingestion, a questionnaire job, and ``kb.ask``.

One path per run (``--path``), the embedder from ``DDQ_EMBEDDER`` (or ``--embedder``); only
the path's own work is profiled (the "region"):

- ``ingest``: the first ``--docs`` (1,000) SciFact documents as ingest items (title heading
  + abstract, as ``bench_ingest.py`` and ``ddq eval beir``) through ``kb.ingest_items`` into
  a fresh ``--home``; as ``ddq ingest`` into a new data directory, the model loads (and the
  ONNX export is made) inside the region;
- ``questionnaire``: a CSV of the first ``--questions`` (300) SciFact queries answered by
  ``QuestionnaireJob`` (the ``ddq answer FILE`` path, batches of 32) on the knowledge base
  in ``--home``; ``ask``: ``kb.ask(q)`` for the first 200 queries, one at a time. For both,
  the model is loaded and warm and Milvus Lite and BM25 are open before the region, and the
  store is cold unless ``--warm``: the SQLite file is put back from
  ``<home>/profile-cold.sqlite3``, taken the first time either runs on the home.

``--profiler py-spy`` attaches ``py-spy record --native --threads --idle`` to this process
for the region and writes ``PREFIX.svg`` (flame graph: every Python thread's running samples,
native frames included, and the main thread's blocked ones) and ``PREFIX.txt`` (the main
thread's wall clock by stage; running samples by stage, model caller, thread and native
library; top-N frames; the app's own timers; RSS); ``pyinstrument`` writes
``PREFIX.pyinstrument.txt``, the main thread's wall-clock call tree. Each run records
``uptime`` before and after, and its numbers under ``benchmarks/results/``. The exact
commands are at the top of docs/profiles/README.md.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from _common import DEFAULT_DATA_DIR, BenchmarkError, run_benchmark, scifact_paths, table
from bench_questionnaire import scifact_questions, write_questionnaire
from ddq.config import Settings, load_settings
from ddq.eval.beir import corpus_items
from ddq.kb import KnowledgeBase

EMBEDDERS = {"local": "local:all-MiniLM-L6-v2", "onnx": "onnx:all-MiniLM-L6-v2",
             "openvino": "openvino:all-MiniLM-L6-v2"}
DEFAULT_QUESTIONS = {"ingest": 0, "questionnaire": 300, "ask": 200}
COLD_SNAPSHOT = "profile-cold.sqlite3"
Region = Callable[[], AbstractContextManager[None]]

# --- the three paths ---------------------------------------------------------------------


def path_ingest(settings: Settings, args: argparse.Namespace, region: Region
                ) -> dict[str, Any]:
    """``ddq ingest`` of the first ``--docs`` SciFact documents into a fresh home."""
    corpus = scifact_paths(args.data).corpus
    with region(), KnowledgeBase(settings) as kb:
        report = kb.ingest_items(corpus_items(corpus, args.docs), total=args.docs)
    failed = [r for r in report.results if r.outcome.value == "failed"]
    if failed:
        raise BenchmarkError(f"{len(failed)} documents failed, first: {failed[0].detail}")
    return {"documents": len(report.results), "chunks": report.chunks_written,
            "embedded_texts": report.embedded_texts, "cached_texts": report.cached_texts}


def path_questionnaire(settings: Settings, args: argparse.Namespace, region: Region
                       ) -> dict[str, Any]:
    """``ddq answer FILE``: a CSV of SciFact queries answered as a batched job."""
    from ddq.jobs.job import QuestionnaireJob

    questions = scifact_questions(scifact_paths(args.data).queries, args.questions)
    scratch = Path(tempfile.mkdtemp(prefix="ddq-profile-questionnaire-"))
    try:
        csv_path = write_questionnaire(scratch, questions, f"P{time.time_ns()}")
        with KnowledgeBase(settings) as kb:
            warm_up(kb)
            with region():
                job = QuestionnaireJob(kb, batch_size=args.batch_size)
                info, _ = job.open(csv_path)
                result = job.run(info)
            statuses = Counter(d.status.value for d in job.store.drafts(info.id).values())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {"questions": len(questions), "answered_now": result.answered_now,
            "statuses": dict(statuses), "batch_size": args.batch_size}


def path_ask(settings: Settings, args: argparse.Namespace, region: Region) -> dict[str, Any]:
    """``kb.ask(q)`` for SciFact queries, one at a time, the model warm."""
    questions = scifact_questions(scifact_paths(args.data).queries, args.questions)
    with KnowledgeBase(settings) as kb:
        warm_up(kb)
        with region():
            answers = [kb.ask(q) for q in questions]
    return {"questions": len(questions),
            "statuses": dict(Counter(a.status.value for a in answers))}


PATHS = {"ingest": path_ingest, "questionnaire": path_questionnaire, "ask": path_ask}


def warm_up(kb: KnowledgeBase) -> None:
    """Load the model, open Milvus and BM25, run one retrieval (which writes nothing to the
    store, so the evidence cache stays as it was); RSS noted after each step."""
    if kb.store.counts(kb.workspace).chunks == 0:
        raise BenchmarkError(f"no chunks in workspace {kb.workspace!r} of {kb.settings.home}; "
                             "build it first with --path ingest --home DIR")
    checkpoint("store opened")
    kb.embedder.embed(["warm up the model"])
    kb.embedder.embed([f"warm up the model with a batch, text {i}" for i in range(16)])
    checkpoint("model loaded and warm")
    _ = kb.chunk_index.count()
    checkpoint("Milvus Lite opened")
    _ = kb.keyword_index.size
    checkpoint("BM25 index loaded")
    _ = kb.drafter
    kb.retrieve("warm up retrieval with one question about cells")
    checkpoint("one retrieval done")


def prepare_home(home: Path, path: str, warm: bool) -> str:
    """Check the home suits the path and put the cold store back; says what it did."""
    if path == "ingest":
        if home.exists() and any(home.iterdir()):
            raise BenchmarkError(f"{home} is not empty; ingestion is profiled into a fresh home")
        return "fresh home"
    database = home / "ddq.sqlite3"
    if not database.is_file():
        raise BenchmarkError(f"{database} not found; build it first with --path ingest")
    snapshot = home / COLD_SNAPSHOT
    if not snapshot.is_file():
        with sqlite3.connect(database) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copy2(database, snapshot)
        return f"cold store (snapshot {snapshot.name} taken now)"
    if warm:
        return "warm store (as the last run left it)"
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    shutil.copy2(snapshot, database)
    return f"cold store (restored from {snapshot.name})"


# --- memory, timers, uptime --------------------------------------------------------------

_CHECKPOINTS: list[tuple[str, float]] = []


def _status_mib(field: str) -> float:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def checkpoint(label: str) -> None:
    _CHECKPOINTS.append((label, _status_mib("VmRSS")))


@contextmanager
def rss_peak(memory: dict[str, Any]) -> Iterator[None]:
    """RSS every 0.2 s on a thread of its own (left out of the profiles): the peak inside."""
    stop = threading.Event()

    def sample() -> None:
        while True:
            memory["peak_in_region_mib"] = max(memory.get("peak_in_region_mib", 0.0),
                                               _status_mib("VmRSS"))
            if stop.wait(0.2):
                return

    thread = threading.Thread(target=sample, name="rss-sampler", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def app_timers() -> dict[str, tuple[float, float]]:
    """(sum, count) of every ddq ``*_seconds`` histogram series, and model call totals."""
    from ddq.metrics import REGISTRY
    from ddq.models.calls import model_stats

    out: dict[str, list[float]] = {}
    for metric in REGISTRY.collect():
        for sample in metric.samples if metric.name.endswith("_seconds") else []:
            key = f"{metric.name.removeprefix('ddq_')}[{','.join(sample.labels.values())}]"
            if sample.name.endswith(("_sum", "_count")):
                out.setdefault(key, [0.0, 0.0])[sample.name.endswith("_count")] = sample.value
    for stats in model_stats():
        for what, value in (("seconds", stats.latency_s_total), ("texts", stats.items),
                            ("tokens", stats.prompt_tokens), ("cache_hits", stats.cache_hits)):
            out[f"model[{stats.model_id}].{what}"] = [float(value), float(stats.calls)]
    return {key: (value[0], value[1]) for key, value in out.items()}


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


# --- profilers ---------------------------------------------------------------------------


@contextmanager
def py_spy(raw: Path, rate: int) -> Iterator[None]:
    """``py-spy record`` attached to this process meanwhile: collapsed stacks to ``raw``."""
    beside = Path(sys.executable).with_name("py-spy")
    exe = str(beside) if beside.is_file() else shutil.which("py-spy")
    if exe is None:
        raise BenchmarkError("py-spy not found: .venv/bin/pip install py-spy")
    log = raw.with_name(raw.name + ".log")
    with log.open("w") as sink:
        proc = subprocess.Popen(
            [exe, "record", "--pid", str(os.getpid()), "--rate", str(rate), "--native",
             "--threads", "--idle", "--format", "raw", "--output", str(raw)],
            stdout=sink, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while "Sampling process" not in log.read_text() and proc.poll() is None:
        if time.monotonic() > deadline:
            proc.kill()
            raise BenchmarkError(f"py-spy did not start: {log.read_text()}")
        time.sleep(0.05)
    if proc.poll() is not None:
        raise BenchmarkError(f"py-spy exited: {log.read_text()}")
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=300)
        if not raw.is_file():
            raise BenchmarkError(f"py-spy wrote nothing: {log.read_text()}")
        log.unlink(missing_ok=True)


# --- collapsed stacks: stages, top-N tables, the flame graph ------------------------------

_PY_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?):\d+\)$")
_NATIVE_FRAME = re.compile(r"^(?P<func>.*) \((?P<lib>[^()]*\.so[^()]*)\)$")
_THREAD = re.compile(r"^thread \(\d+\)(?::(?P<name>.*))?$")

#: Stage rules, first match wins: (stage, substrings that must all be in the stack). A stack
#: is its normalised frames joined by ";": "func (package/file.py)", "func [library.so]".
STAGES: list[tuple[str, tuple[str, ...]]] = [
    ("model load (+ ONNX export)", ("SentenceTransformerEmbedder._load",)),
    ("model load (+ ONNX export)", ("OnnxEmbedder._session_for",)),
    ("Milvus Lite connect (server start)", ("MilvusVectorIndex.connect",)),
    ("imports", ("_find_and_load",)),
    ("model: tokens counted again for usage stats", ("<locals>.usage (ddq/models/calls.py)",)),
    ("model: tokenisation", ("SentenceTransformer.encode", "preprocess")),
    ("model: tokenisation", ("OnnxEmbedder.embed_batch", "tokenizers")),
    ("model: forward", ("SentenceTransformer.encode",)),
    ("model: forward", ("_run (ddq/models/onnx.py)",)),
    ("model: other", ("OnnxEmbedder.embed_batch",)),
    ("chunking: token counting", ("chunk_document", "count_tokens")),
    ("chunking: other", ("chunk_document",)),
    ("parse", ("IngestPipeline.run", "load (ddq/eval/beir.py)")),
    ("embedding cache (hashing, SQLite read/write)", ("CachedEmbedder.lookup",)),
    ("Milvus client: insert (rows, request)", ("MilvusVectorIndex.insert",)),
    ("Milvus client: flush", ("MilvusVectorIndex.flush",)),
    ("Milvus client: search, decoding results",
     ("MilvusVectorIndex.search", "pymilvus/client/search_result")),
    ("Milvus client: search, has_collection", ("MilvusVectorIndex.exists",)),
    ("Milvus client: search, request", ("MilvusVectorIndex.search",)),
    ("Milvus client: other", ("MilvusVectorIndex.",)),
    ("SQLite: store documents and chunks", ("put_document",)),
    ("ingest: other per group", ("IngestPipeline._write_group",)),
    ("BM25 build", ("BM25KeywordIndex.rebuild",)),
    ("SQLite: read chunks for the BM25 build", ("rebuild_keyword_index",)),
    ("BM25 search", ("BM25KeywordIndex.search",)),
    ("BM25 search", ("BM25._get_top_k_results",)),  # on a thread pool bm25s makes per call
    ("retrieval: library check (SQLite count)", ("HybridRetriever._library_search",)),
    ("retrieval: hydration (SQLite chunks_by_ids)", ("chunks_by_ids",)),
    ("retrieval: fusion + assembly", ("HybridRetriever._assemble",)),
    ("answer: stemming (bm25s.tokenize per text)", ("ExtractiveAnswerer.", "stem_terms")),
    ("answer: key terms, idf, coverage", ("ExtractiveAnswerer._prepare",)),
    ("answer: evidence units (sentence split)", ("ExtractiveAnswerer._units",)),
    ("answer: sentence scoring + compose", ("ExtractiveAnswerer._compose",)),
    ("answer: other", ("ExtractiveAnswerer.",)),
    ("job: extract + store questions", ("QuestionnaireJob.open",)),
    ("job: save drafts (SQLite)", ("save_draft",)),
    ("job: other", ("QuestionnaireJob.",)),
    ("Milvus Lite server: search", ("MilvusServicer.Search",)),
    ("Milvus Lite server: upsert", ("MilvusServicer.Upsert",)),
    ("Milvus Lite server: flush", ("MilvusServicer.Flush",)),
    ("Milvus Lite server: other", ("milvus_lite",)),
    ("gRPC machinery", ("grpc",)),
]
#: What a sample blocked on a lock, a queue or the kernel ends in: waiting, not running.
_WAITS = ("PyThread_acquire_lock_timed", "pthread_cond_timedwait", "pthread_cond_wait",
          "epoll_wait", "sem_wait", "sem_timedwait", "syscall [libc.so]", "nanosleep",
          "poll [libc.so]", "select [libc.so]", "_queue_SimpleQueue_get", "take_gil")
#: Who asked the model, for the model-time-by-caller table.
_CALLERS = (("ExtractiveAnswerer._vectors", "evidence sentences (answerer)"),
            ("HybridRetriever.retrieve_many", "questions (retriever)"),
            ("IngestPipeline", "chunks (ingestion)"))
Stacks = list[tuple[tuple[str, ...], int]]
MAIN_THREAD = "thread MainThread"


def _normalise(frame: str) -> str:
    """Line numbers dropped, thread ids and pool numbers folded, native addresses by library."""
    if m := _THREAD.match(frame):
        name = re.sub(r"_\d+$", "_N", (m["name"] or "(unnamed)").strip())
        return "thread " + re.sub(r"^ThreadPoolExecutor-\d+", "ThreadPoolExecutor-N", name)
    if m := _PY_FRAME.match(frame):
        return f"{m['func']} ({m['file']})"
    if m := _NATIVE_FRAME.match(frame):
        lib = re.sub(r"(\.so)[.\d]*$", r"\1", m["lib"])
        return f"[{lib}]" if m["func"].startswith("0x") else f"{m['func']} [{lib}]"
    return frame


def read_collapsed(path: Path) -> tuple[Stacks, Stacks]:
    """py-spy's raw output as (running, waiting) stacks of normalised frames, root first;
    this script's RSS sampler is left out."""
    stacks: Counter[tuple[str, ...]] = Counter()
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames: list[str] = []
        for raw in stack.split(";"):
            frame = _normalise(raw)
            # The process's own entry frames ([libc.so] under a thread) are unwound only
            # sometimes: dropped, so that one code path is one tower in the flame graph.
            if not (frame.startswith("[") and (frames[-1:] == [frame] or len(frames) == 1)):
                frames.append(frame)
        if frames[0] != "thread rss-sampler":
            stacks[tuple(frames)] += int(count)
    waiting = {f for f in stacks if any(w in x for x in f[-3:] for w in _WAITS)}
    return ([(f, n) for f, n in stacks.items() if f not in waiting],
            [(f, n) for f, n in stacks.items() if f in waiting])


def stage_of(frames: Sequence[str]) -> str:
    joined = ";".join(frames)
    for stage, needles in STAGES:
        if all(n in joined for n in needles):
            return stage
    return f"other ({frames[0].removeprefix('thread ') if frames else '?'})"


def summarise_stacks(running: Stacks, waiting: Stacks, rate: int, top: int = 25
                     ) -> tuple[str, dict[str, Any]]:
    """Text tables (the main thread's wall clock by stage; running samples by stage, model
    caller, thread, native library; top self and inclusive frames) and shares as numbers."""
    total = sum(n for _, n in running) or 1
    count: dict[str, Counter[str]] = {k: Counter() for k in (
        "stages", "callers", "threads", "libraries", "self", "inclusive", "wall", "blocked")}
    for frames, n in running:
        stage = stage_of(frames)
        count["stages"][stage] += n
        if stage.startswith("model:"):
            joined = ";".join(frames)
            caller = next((name for needle, name in _CALLERS if needle in joined), "other")
            count["callers"][f"{stage} <- {caller}"] += n
        count["threads"][frames[0]] += n
        lib = re.search(r"\[([^\]]+)\]$", frames[-1])
        count["libraries"][lib[1] if lib else "Python (interpreter)"] += n
        count["self"][frames[-1]] += n
        for frame in set(frames[1:]):
            count["inclusive"][frame] += n
    for stacks, key in ((running, "wall"), (waiting, "blocked")):
        for frames, n in stacks:
            if frames[0] == MAIN_THREAD:
                count["wall"][stage_of(frames)] += n
                count["blocked"][stage_of(frames)] += n if key == "blocked" else 0
    wall = sum(count["wall"].values()) or 1

    def rows(key: str, limit: int | None = None) -> list[list[object]]:
        return [[k if len(k) <= 90 else k[:89] + "…", v, f"{100 * v / total:.1f}%",
                 f"{v / rate:.1f}"] for k, v in count[key].most_common(limit)]

    head = ["samples", "%", "~s"]
    text = "\n\n".join([
        f"py-spy --idle at {rate} Hz: the main thread was sampled {wall} times (~{wall / rate:.0f}"
        f" s, its wall clock); the Python threads were running in {total} samples (~"
        f"{total / rate:.0f} thread-seconds). Native pool threads (OpenMP, ONNX Runtime, the "
        "tokenizers' rayon) are not sampled: their work shows as the calling thread's time.",
        "Main thread, wall clock by stage (running or blocked; stage = first matching rule of "
        "STAGES in benchmarks/profile_paths.py):\n"
        + table(["stage", "% wall", "~s", "blocked ~s"],
                [[k, f"{100 * v / wall:.1f}%", f"{v / rate:.1f}",
                  f"{count['blocked'][k] / rate:.1f}"] for k, v in count["wall"].most_common()]),
        "Running samples of every Python thread, by stage:\n"
        + table(["stage", *head], rows("stages")),
        "Model samples by caller:\n" + table(["stage <- caller", *head], rows("callers")),
        "Running samples by thread:\n" + table(["thread", *head], rows("threads")),
        "Where the leaf frame runs (a native library, or Python code itself):\n"
        + table(["library", *head], rows("libraries", 15)),
        f"Top {top} frames by self samples:\n" + table(["frame", *head], rows("self", top)),
        f"Top {top} frames by inclusive samples:\n"
        + table(["frame", *head], rows("inclusive", top)),
    ])
    numbers = {"running_samples": total, "main_thread_samples": wall, "rate": rate,
               "wall": {s: v / wall for s, v in count["wall"].most_common()},
               **{k: {s: v / total for s, v in count[k].most_common(30)}
                  for k in ("stages", "callers", "threads", "libraries")}}
    return text, numbers


def write_flamegraph(stacks: Stacks, path: Path, title: str, *, width: int = 1200,
                     min_fraction: float = 0.0015) -> None:
    """A static icicle flame graph (roots on top) as SVG; frames narrower than
    ``min_fraction`` of all samples are left out to keep the file small."""
    tree: dict[str, Any] = {"n": 0, "c": {}}
    for frames, n in stacks:
        node = tree
        node["n"] += n
        for frame in frames:
            node = node["c"].setdefault(frame, {"n": 0, "c": {}})
            node["n"] += n
    total = tree["n"] or 1
    scale = (width - 20) / total
    rects: list[str] = []
    deepest = 0

    def colour(name: str) -> str:
        h = zlib.crc32(name.encode()) % 40
        if name.startswith("thread ") or name == "(blocked)":
            return "rgb(190,190,190)"
        if name.endswith("]"):
            return f"rgb({60 + h},{150 + h},{200 + h // 2})"  # native
        if "(ddq/" in name:
            return f"rgb({80 + h},{190 + h // 2},{80 + h})"
        return f"rgb({215 + h // 2},{110 + 2 * h},{40 + h})"

    def walk(node: dict[str, Any], x: float, depth: int) -> None:
        nonlocal deepest
        for name, child in sorted(node["c"].items(), key=lambda kv: -kv[1]["n"]):
            if child["n"] / total < min_fraction:
                continue
            w, y = child["n"] * scale, 30 + depth * 16
            deepest = max(deepest, depth)
            chars = int((w - 4) / 6.6)
            shown = name if len(name) <= chars else name[: chars - 2] + ".."
            text = (f'<text x="{x + 2:.1f}" y="{y + 11.5}">{html.escape(shown)}</text>'
                    if chars >= 3 else "")
            rects.append(f"<g><title>{html.escape(name)} ({child['n']} samples, "
                         f"{100 * child['n'] / total:.2f}%)</title><rect x=\"{x:.1f}\" "
                         f'y="{y}" width="{w:.1f}" height="15" fill="{colour(name)}"/>'
                         f"{text}</g>")
            walk(child, x, depth + 1)
            x += w

    walk(tree, 10.0, 0)
    height = 30 + (deepest + 1) * 16 + 10
    path.write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="monospace" font-size="11">\n<rect width="100%" height="100%" '
        f'fill="#fdfdf6"/>\n<text x="10" y="18" font-size="13">{html.escape(title)}</text>\n'
        + "\n".join(rects) + "\n</svg>\n", encoding="utf-8")


# --- the run -----------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    checkpoint("start (Python, ddq imported)")
    base = load_settings(home=args.home)
    settings = base.model_copy(update={
        "home": args.home, "database_url": None, "milvus_uri": None,
        "workspace": args.workspace or base.workspace,
        "embedder": EMBEDDERS.get(args.embedder, args.embedder) or base.embedder})
    store = prepare_home(settings.home, args.path, args.warm)
    prefix = args.out or Path(tempfile.gettempdir()) / (
        f"ddq-profile-{args.path}-{settings.embedder.partition(':')[0]}")
    prefix.parent.mkdir(parents=True, exist_ok=True)
    output = {k: prefix.with_name(prefix.name + k)
              for k in (".svg", ".txt", ".collapsed.txt", ".pyinstrument.txt")}
    raw = args.raw or output[".collapsed.txt"]
    measured: dict[str, Any] = {}
    memory: dict[str, Any] = {"checkpoints_mib": _CHECKPOINTS}
    instrument = None
    if args.profiler == "pyinstrument":
        from pyinstrument import Profiler

        instrument = Profiler(interval=0.001)

    @contextmanager
    def region() -> Iterator[None]:
        profiler: AbstractContextManager[None] = (
            py_spy(raw, args.rate) if args.profiler == "py-spy"
            else instrument if instrument is not None else nullcontext())
        checkpoint("region starts")
        measured["uptime_before"] = uptime()
        before = app_timers()
        with rss_peak(memory), profiler:
            started, cpu = time.perf_counter(), time.process_time()
            yield
            measured["wall_seconds"] = time.perf_counter() - started
            measured["cpu_seconds"] = time.process_time() - cpu
        measured["uptime_after"] = uptime()
        measured["timers"] = {
            k: (v - before.get(k, (0, 0))[0], c - before.get(k, (0, 0))[1])
            for k, (v, c) in app_timers().items() if (v, c) != before.get(k, (0, 0))}
        checkpoint("region ends")

    work = PATHS[args.path](settings, args, region)
    result: dict[str, Any] = {
        "path": args.path, "embedder": settings.embedder, "home": str(settings.home),
        "workspace": settings.workspace, "store": store, "profiler": args.profiler,
        "command": " ".join(sys.argv), "work": work, **measured,
        "memory": {**memory, "vm_hwm_mib": _status_mib("VmHWM"),
                   "ru_maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024},
    }
    header = render(result)
    if args.profiler == "py-spy":
        running, waiting = read_collapsed(raw)
        text, result["py_spy"] = summarise_stacks(running, waiting, args.rate)
        blocked = [((*f, "(blocked)"), n) for f, n in waiting if f[0] == MAIN_THREAD]
        write_flamegraph(running + blocked, output[".svg"], (
            f"DDQ {args.path}, {settings.embedder}, {measured['wall_seconds']:.0f} s: py-spy "
            f"--native --idle, {args.rate} Hz; every Python thread's running samples and the main"
            " thread's blocked ones (grey)"))
        output[".txt"].write_text(f"{header}\n\n{text}\n", encoding="utf-8")
        if args.raw is None:
            raw.unlink(missing_ok=True)
    elif instrument is not None:
        tree = instrument.output_text(unicode=True, color=False)
        output[".pyinstrument.txt"].write_text(f"{header}\n\n{tree}", encoding="utf-8")
    return result


def render(result: dict[str, Any]) -> str:
    wall = result["wall_seconds"]
    timers = [[k, v, int(c), f"{100 * v / wall:.1f}%" if "seconds" in k else ""]
              for k, (v, c) in sorted(result["timers"].items())]
    mem = result["memory"]
    return "\n".join([
        f"DDQ profile: {result['path']}, embedder {result['embedder']}, profiler "
        f"{result['profiler']}",
        f"command: {result['command']}",
        f"home: {result['home']} (workspace {result['workspace']}; {result['store']})",
        f"work: {result['work']}",
        f"region: {wall:.1f} s wall, {result['cpu_seconds']:.1f} s CPU (this process)",
        f"uptime before: {result['uptime_before']}",
        f"uptime after:  {result['uptime_after']}",
        "",
        "The app's own timers and model counters inside the region (sums; stage timers nest, "
        "% of region wall time):\n" + table(["series", "sum", "count", "% wall"], timers),
        "",
        "Memory (RSS, MiB):\n"
        + table(["checkpoint", "RSS MiB"], [[k, v] for k, v in mem["checkpoints_mib"]])
        + f"\npeak RSS inside the region {mem['peak_in_region_mib']:.0f} MiB; process peak "
        f"(VmHWM) {mem['vm_hwm_mib']:.0f} MiB; getrusage ru_maxrss {mem['ru_maxrss_mib']:.0f} MiB",
    ])


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    add = parser.add_argument
    add("--path", required=True, choices=sorted(PATHS), help="the path to profile")
    add("--home", type=Path, required=True,
        help="data directory: a fresh one for ingest, the built knowledge base otherwise")
    add("--workspace", default=None, help="workspace (default: settings)")
    add("--embedder", default=None, help="local, onnx or provider:model (default: DDQ_EMBEDDER)")
    add("--data", type=Path, default=DEFAULT_DATA_DIR, help="folder holding scifact/")
    add("--docs", type=int, default=1000, help="ingest: the first N documents (1000)")
    add("--questions", type=int, default=None, help="first N SciFact queries (300 / 200)")
    add("--batch-size", type=int, default=32, help="questionnaire batch size (32)")
    add("--warm", action="store_true", help="keep the store as it is (evidence cache warm)")
    add("--profiler", choices=("py-spy", "pyinstrument", "none"), default="py-spy")
    add("--out", type=Path, default=None, help="output prefix, e.g. docs/profiles/ingest-onnx")
    add("--raw", type=Path, default=None, help="keep py-spy's collapsed stacks in this file")
    add("--rate", type=int, default=50, help="py-spy samples per second (50)")
    args = parser.parse_args(argv)
    if args.questions is None:
        args.questions = DEFAULT_QUESTIONS[args.path]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # The results JSON goes to the default place; a profile has no --strict target.
    args.output, args.strict = None, False
    return run_benchmark(f"profile_{args.path}", args, run, render)


if __name__ == "__main__":
    sys.exit(main())
