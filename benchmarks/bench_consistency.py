"""The consistency check: its precision and recall on the golden set, and its time as the
questionnaire grows (each question compared with its k nearest, against all pairs).

    .venv/bin/python benchmarks/bench_consistency.py [--sizes 144,1440,5760] [--runs 3]

Quality uses the real all-MiniLM-L6-v2 (sentence-transformers). Scaling copies the golden
set's 144 answers N/144 times; a copy's vector is its original's with a little noise, so the
neighbour structure is the real one and the time measured is the check's own, not the
model's (the model's time is per question and is measured in docs/performance.md).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from _common import environment, median, run_benchmark, table, warn_if_busy
from ddq.eval.consistency import load_golden, score
from ddq.models.base import Embedder, Vectors
from ddq.trust.consistency import Item, Thresholds, check_items

GOLDEN = Path(__file__).resolve().parents[1] / "examples" / "golden" / "consistency"


class _Replayed(Embedder):
    """Vectors looked up by text (a copy's: its original's plus noise), no model work."""

    model_id = "replayed"

    def __init__(self, vectors: dict[str, Vectors], dimension: int) -> None:
        self.vectors, self.dimension = vectors, dimension

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        return np.stack([self.vectors[t] for t in texts])


def _copies(items: list[Item], n: int) -> list[Item]:
    out = []
    for copy in range(n // len(items) + 1):
        for item in items:
            if len(out) == n:
                return out
            out.append(
                item
                if copy == 0
                else replace(
                    item,
                    ref=f"{item.ref}-{copy}",
                    question=f"{item.question} [{copy}]",
                    answer=f"{item.answer} [{copy}]",
                )
            )
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    from ddq.models.local import SentenceTransformerEmbedder
    from ddq.trust.consistency import abbreviate, mentions

    warn_if_busy()
    golden = load_golden(GOLDEN / "questionnaire.yaml")
    model = SentenceTransformerEmbedder("all-MiniLM-L6-v2", batch_size=32)
    started = time.perf_counter()
    report = check_items(golden.items, model)
    quality = [
        {
            "kind": s.kind.value,
            "planted": s.planted,
            "near_misses": s.near_misses,
            "found": s.found,
            "right": s.right,
            "precision": round(s.precision, 3),
            "recall": round(s.recall, 3),
        }
        for s in score(golden, report)
    ]
    first_s = time.perf_counter() - started  # includes loading the model
    # Every text the check embeds, once, from the real model; copies get noise.
    base: dict[str, Vectors] = {}
    texts = [abbreviate(i.question) for i in golden.items] + [
        m.subject for n, i in enumerate(golden.items) for m in mentions(n, i)
    ]
    for text, vector in zip(texts, model.embed(texts), strict=True):
        base[text] = vector
    rng = np.random.default_rng(0)
    rows = []
    for size in args.sizes:
        items = _copies(golden.items, size)
        vectors: dict[str, Vectors] = {}
        for n, item in enumerate(items):
            original = golden.items[n % len(golden.items)]
            pairs = [(abbreviate(item.question), abbreviate(original.question))]
            pairs += [
                (m.subject, o.subject)
                for m, o in zip(mentions(n, item), mentions(n, original), strict=True)
            ]
            for text, source in pairs:
                noisy = base[source] + rng.normal(0, 0.01, base[source].shape).astype(np.float32)
                vectors[text] = noisy / np.linalg.norm(noisy)
        embedder = _Replayed(vectors, model.dimension)
        for k, label in ((Thresholds().neighbours, "k nearest"), (size, "all pairs")):
            if label == "all pairs" and size > args.all_pairs_up_to:
                continue
            times, compared, found = [], 0, 0
            for _ in range(args.runs):
                t0 = time.perf_counter()
                result = check_items(items, embedder, Thresholds(neighbours=k))
                times.append(time.perf_counter() - t0)
                compared, found = result.pairs_compared, len(result.findings)
            rows.append(
                {
                    "answers": size,
                    "mode": label,
                    "k": k,
                    "median_s": median(times),
                    "pairs_compared": compared,
                    "findings": found,
                }
            )
    meets = all(q["precision"] >= 0.9 and q["recall"] >= 0.8 for q in quality)
    return {
        "environment": environment(),
        "quality": quality,
        "first_check_s": first_s,
        "scaling": rows,
        "summary": {"meets_target": meets},
    }


def render(result: dict[str, Any]) -> str:
    cpu = result["environment"]["cpu"]
    lines = [
        f"cpu: {cpu['model']} ({', '.join(cpu['flags'])}); load "
        f"{result['environment']['load_average']}",
        "",
        table(
            ["kind", "planted", "near-misses", "found", "right", "precision", "recall"],
            [
                [
                    q["kind"],
                    q["planted"],
                    q["near_misses"],
                    q["found"],
                    q["right"],
                    q["precision"],
                    q["recall"],
                ]
                for q in result["quality"]
            ],
        ),
        "",
        table(
            ["answers", "mode", "k", "median s", "pairs compared", "findings"],
            [
                [r["answers"], r["mode"], r["k"], r["median_s"], r["pairs_compared"], r["findings"]]
                for r in result["scaling"]
            ],
        ),
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=lambda v: [int(x) for x in v.split(",")], default=[144, 1440, 5760]
    )
    parser.add_argument("--all-pairs-up-to", type=int, default=1440)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--strict", action="store_true")
    return run_benchmark("consistency", parser.parse_args(), run, render)


if __name__ == "__main__":
    raise SystemExit(main())
