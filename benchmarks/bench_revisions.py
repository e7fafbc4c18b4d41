"""Is this revision slower than an earlier one? The batched questionnaire job and
``ddq answer`` on the sample questionnaire, timed at two revisions in one run.

Each timing runs in its own process with ``PYTHONPATH`` pointing at the revision's ``src``
(the earlier one checked out into a temporary git worktree), the model loaded before the
clock starts. The two revisions alternate, ``--repeats`` times, and the verdict is the median
of the per-repeat ratios (this revision's seconds over the base's): below 1 is faster.

- **batched job**: the first ``--questions`` SciFact queries as a CSV questionnaire, answered
  by ``QuestionnaireJob`` on a cold copy of the SciFact index that ``--home`` holds
  (``bench_retrieval.py --home DIR`` builds it);
- **sample questionnaire**: ``examples/knowledge`` ingested (not timed), then
  ``examples/questionnaires/harborline_vendor_security.xlsx`` answered as ``ddq answer``
  does, every question timed from extraction to the last saved draft.

    .venv/bin/python benchmarks/bench_revisions.py --base cff3407 --home /tmp/ddq-scifact

``--head REV`` times a commit instead of the working tree (which may hold others' uncommitted
edits). Each timing also gives a fingerprint of its drafts (status, text, verdict,
confidence, reason and citations of every question): two revisions whose answers are the
same have the same one.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import (
    DEFAULT_DATA_DIR,
    BenchmarkError,
    environment,
    median,
    run_benchmark,
    table,
    warn_if_busy,
)

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "questionnaires" / "harborline_vendor_security.xlsx"


def _inner(kind: str, home: Path, questions: int, data: Path, workspace: str
           ) -> dict[str, Any]:
    """One timing, in this process, with whatever ``ddq`` the path gives."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import ddq
    from _common import bench_settings, scifact_paths, scifact_questions, write_questionnaire
    from ddq.kb import KnowledgeBase
    from ddq.models.registry import embedder_for

    try:  # the job's home since the format-layer refactor, and before it
        from ddq.jobs.job import QuestionnaireJob
    except ImportError:
        from ddq.questionnaire.job import QuestionnaireJob  # type: ignore[no-redef]

    scratch = Path(tempfile.mkdtemp(prefix="ddq-bench-rev-"))
    try:
        if kind == "batched":
            work = scratch / "home"
            shutil.copytree(home, work)
            settings = bench_settings(work, workspace)
            path = write_questionnaire(scratch, scifact_questions(
                scifact_paths(data).queries, questions), f"rev-{time.time_ns()}")
        else:
            settings = bench_settings(scratch / "home", "default")
            path = scratch / SAMPLE.name
            shutil.copy2(SAMPLE, path)
        embedder = embedder_for(settings)
        embedder.embed(["warm up the model"])
        with KnowledgeBase(settings, embedder=embedder) as kb:
            if kind == "sample":
                kb.ingest_paths([ROOT / "examples" / "knowledge"])
            kb.retriever  # noqa: B018 - open Milvus and BM25 outside the clock
            kb.keyword_index.size  # noqa: B018
            started = time.perf_counter()
            job = QuestionnaireJob(kb, batch_size=32)
            info, _ = job.open(path)
            result = job.run(info)
            seconds = time.perf_counter() - started
            drafts = job.store.drafts(info.id)
            answered = sum(1 for d in drafts.values() if d.status.value != "needs_input")
            said = [[d.status.value, d.text, getattr(d, "stance", None), d.confidence,
                     d.reason, [[c.source_path.rsplit("/", 1)[-1], c.location, c.quote]
                                for c in d.citations]]
                    for _, d in sorted(drafts.items())]
            fingerprint = hashlib.sha256(json.dumps(said).encode()).hexdigest()[:16]
            return {"seconds": seconds, "questions": result.progress.done,
                    "answered": answered, "answers": fingerprint,
                    "ddq": str(Path(ddq.__file__).parent)}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _time(tree: Path, kind: str, args: argparse.Namespace, side: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "HF_HUB_OFFLINE": "1"}
    home = args.base_home if tree != ROOT and side == "base" and args.base_home else args.home
    command = [sys.executable, __file__, "--inner", kind, "--home", str(home),
               "--questions", str(args.questions), "--data", str(args.data),
               "--workspace", args.workspace]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchmarkError(f"{kind} at {tree}: {done.stderr.strip().splitlines()[-1:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if not result["ddq"].startswith(str(tree)):
        raise BenchmarkError(f"the timing at {tree} imported ddq from {result['ddq']}")
    return result


def run(args: argparse.Namespace) -> dict[str, Any]:
    if not (args.home / "ddq.sqlite3").is_file():
        raise BenchmarkError(f"{args.home} holds no SciFact index; build one with "
                             "benchmarks/bench_retrieval.py --home DIR")
    warn_if_busy()
    env = environment()
    base_tree = Path(tempfile.mkdtemp(prefix="ddq-base-")) / "tree"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base_tree),
                    args.base], check=True, capture_output=True)
    head_tree = ROOT
    if args.head:
        head_tree = Path(tempfile.mkdtemp(prefix="ddq-head-")) / "tree"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(head_tree),
                        args.head], check=True, capture_output=True)
    head = subprocess.run(["git", "-C", str(head_tree), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()
    trees = {"base": base_tree, "head": head_tree}
    repeats: list[dict[str, Any]] = []
    try:
        for number in range(args.repeats):
            order = ("base", "head") if number % 2 == 0 else ("head", "base")
            timings: dict[str, dict[str, Any]] = {}
            for kind in args.kinds:
                for side in order:
                    print(f"repeat {number + 1}: {kind} at {side}", file=sys.stderr)
                    timings[f"{kind}:{side}"] = _time(trees[side], kind, args, side)
                    print(f"  {timings[f'{kind}:{side}']['seconds']:.2f} s", file=sys.stderr)
            repeats.append({"order": list(order), **timings})
    finally:
        for tree in {base_tree, head_tree} - {ROOT}:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(tree)], check=False, capture_output=True)
    summary: dict[str, Any] = {"base": args.base, "head": head, "meets_target": True}
    for kind in args.kinds:
        ratios = [r[f"{kind}:head"]["seconds"] / r[f"{kind}:base"]["seconds"] for r in repeats]
        summary[kind] = {
            "base_seconds": median([r[f"{kind}:base"]["seconds"] for r in repeats]),
            "head_seconds": median([r[f"{kind}:head"]["seconds"] for r in repeats]),
            "ratio_median": median(ratios), "ratios": ratios,
            "base_answered": repeats[-1][f"{kind}:base"]["answered"],
            "head_answered": repeats[-1][f"{kind}:head"]["answered"],
            "same_answers": len({r[f"{kind}:{side}"].get("answers") for r in repeats
                                 for side in ("base", "head")}) == 1,
            "questions": repeats[-1][f"{kind}:head"]["questions"],
        }
        summary["meets_target"] &= summary[kind]["ratio_median"] <= args.limit
    return {"environment": env, "repeats": repeats, "summary": summary}


def render(result: dict[str, Any]) -> str:
    s = result["summary"]
    rows = [[kind, s[kind]["questions"], f"{s[kind]['base_seconds']:.2f}",
             f"{s[kind]['head_seconds']:.2f}", f"{s[kind]['ratio_median']:.2f}",
             " / ".join(f"{r:.2f}" for r in s[kind]["ratios"]),
             f"{s[kind]['base_answered']} → {s[kind]['head_answered']}",
             "yes" if s[kind]["same_answers"] else "no"]
            for kind in s if isinstance(s[kind], dict)]
    cpu = result["environment"]["cpu"]
    return (f"{s['head']} against {s['base']} on {cpu['model']} ({' '.join(cpu['flags'])})\n"
            + table(["timing", "questions", "base s", "head s", "head/base (median)",
                     "per repeat", "answered", "same answers"], rows))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="HEAD~1", help="the earlier revision (git)")
    parser.add_argument("--head", default=None,
                        help="the later revision (git; default: the working tree)")
    parser.add_argument("--home", type=Path, required=True, help="a built SciFact index")
    parser.add_argument("--base-home", type=Path, default=None,
                        help="the index for the base, when its store schema is older than "
                             "the one --home was built with (a copy stamped at its version)")
    parser.add_argument("--workspace", default="scifact",
                        help="the index's workspace (bench_retrieval.py builds 'scifact')")
    parser.add_argument("--questions", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--kinds", nargs="+", default=["batched", "sample"],
                        choices=["batched", "sample"])
    parser.add_argument("--limit", type=float, default=1.0,
                        help="the most head/base may be (--strict exits 3 above it)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--inner", choices=["batched", "sample"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        print(json.dumps(_inner(args.inner, args.home, args.questions, args.data,
                                args.workspace)))
        return 0
    return run_benchmark("revisions", args, run, render)


if __name__ == "__main__":
    sys.exit(main())
