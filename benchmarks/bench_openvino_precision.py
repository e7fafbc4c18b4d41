"""OpenVINO's precision on this CPU: bf16 against f32, and which one DDQ picks.

The claim under test: *the precision DDQ compiles the default embedder in is the faster one
on this machine*. OpenVINO itself picks bf16 on any CPU with AVX512-BF16; DDQ asks for bf16
only where the CPU has AMX and for f32 elsewhere (``ddq.models.openvino.preferred_precision``).

In one process, the shipped all-MiniLM-L6-v2 export is compiled twice with the bulk
settings DDQ uses (two threads, latency hint), once per precision (as
``DDQ_OPENVINO_PRECISION`` names it), and both embed the same SciFact texts (``title + "\\n" +
abstract``, the model's 256-token truncation) in DDQ's own runs (longest first, 64 texts or
``TOKEN_BUDGET`` tokens per run), alternating pass by pass. The
verdict compares the medians; the vectors of the two are compared too (cosine). For
reference, the int8 ONNX Runtime provider (``onnx:all-MiniLM-L6-v2``) embeds the same texts
in the same rotation (not part of the verdict: another model id, whose vectors depend on
their batch-mates).

    .venv/bin/python benchmarks/bench_openvino_precision.py
    .venv/bin/python benchmarks/bench_openvino_precision.py --docs 100 --repeats 1
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from _common import (
    DEFAULT_DATA_DIR,
    announce,
    corpus_texts,
    environment,
    load_average,
    median,
    run_benchmark,
    scifact_paths,
    table,
    warn_if_busy,
)
from ddq.config import load_settings
from ddq.models.onnx import OnnxEmbedder
from ddq.models.openvino import OpenVinoEmbedder, cpu_flags, preferred_precision

PRECISIONS = ("bf16", "f32")
REFERENCE = "int8 ONNX Runtime"


def run(args: argparse.Namespace) -> dict[str, Any]:
    files = scifact_paths(args.data)
    texts = corpus_texts(files.corpus, args.docs)
    env_before = environment()
    warn_if_busy()
    model_dir = args.model_dir or load_settings().resolved_model_dir
    models: dict[str, OnnxEmbedder] = {
        p: OpenVinoEmbedder(cache_dir=model_dir, precision_hint=p) for p in PRECISIONS}
    models[REFERENCE] = OnnxEmbedder(cache_dir=model_dir, precision="int8")
    with announce("compiling both precisions and loading the reference"):
        for model in models.values():
            model.embed(texts[:8])
    tokens = sum(min(n, 256) for n in models["f32"].count_tokens(texts))
    names = (*PRECISIONS, REFERENCE)
    seconds: dict[str, list[float]] = {p: [] for p in names}
    vectors: dict[str, np.ndarray] = {}
    for number in range(args.repeats):
        order = names if number % 2 == 0 else names[::-1]
        for precision in order:
            with announce(f"pass {number + 1}: {len(texts)} texts in {precision}"):
                started = time.perf_counter()
                vectors[precision] = models[precision].embed(texts)
                seconds[precision].append(time.perf_counter() - started)
    compiled = {p: cast(OpenVinoEmbedder, models[p]).inference_precision for p in PRECISIONS}
    compiled[REFERENCE] = "int8"
    flags = cpu_flags()
    chosen = preferred_precision(flags)
    per_s = {p: tokens / median(s) for p, s in seconds.items()}
    faster = max(PRECISIONS, key=lambda p: per_s[p])
    cosine = np.einsum("ij,ij->i", vectors["bf16"], vectors["f32"])
    listed = flags or frozenset()
    return {
        "benchmark": "bench_openvino_precision",
        "environment": {**env_before, "load_after": load_average()},
        "cpu": {"amx_bf16": "amx_bf16" in listed, "avx512_bf16": "avx512_bf16" in listed},
        "texts": len(texts),
        "tokens": tokens,
        "compiled_as": compiled,
        "seconds": seconds,
        "tokens_per_s": per_s,
        "cosine_bf16_f32": {"mean": float(cosine.mean()), "min": float(cosine.min())},
        "summary": {
            "ddq_picks": chosen or "OpenVINO's own choice",
            "faster": faster,
            "f32_over_bf16": per_s["f32"] / per_s["bf16"],
            "reference_over_f32": per_s[REFERENCE] / per_s["f32"],
            "meets_target": chosen is None or chosen == faster,
        },
    }


def render(result: dict[str, Any]) -> str:
    s = result["summary"]
    cpu = result["cpu"]
    rows = [[p, result["compiled_as"][p], " / ".join(f"{x:.2f}" for x in result["seconds"][p]),
             round(result["tokens_per_s"][p])] for p in (*PRECISIONS, REFERENCE)]
    lines = [
        f"{result['texts']} SciFact texts, {result['tokens']:,} tokens; CPU: AMX "
        f"{'yes' if cpu['amx_bf16'] else 'no'}, AVX512-BF16 "
        f"{'yes' if cpu['avx512_bf16'] else 'no'}",
        table(["asked", "compiled as", "seconds per pass", "tokens/s (median)"], rows),
        f"f32 / bf16 tokens/s: {s['f32_over_bf16']:.2f}x; vectors bf16 vs f32: cosine mean "
        f"{result['cosine_bf16_f32']['mean']:.5f}, min {result['cosine_bf16_f32']['min']:.5f}",
        f"reference: {REFERENCE} / f32 tokens/s {s['reference_over_f32']:.2f}x",
        f"DDQ picks {s['ddq_picks']}; faster here: {s['faster']}: "
        + ("MET" if s["meets_target"] else "NOT MET"),
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR,
                        help="folder holding scifact/ (default: ../shared/data from the repo)")
    parser.add_argument("--docs", type=int, default=500,
                        help="the first N SciFact documents (default 500)")
    parser.add_argument("--repeats", type=int, default=3, help="passes per precision (default 3)")
    parser.add_argument("--model-dir", type=Path, default=None,
                        help="the model folder (default: DDQ's, $DDQ_MODEL_DIR or <home>/models;\n"
                             "the export is made there if missing)")
    parser.add_argument("--output", type=Path, default=None,
                        help="JSON result file (default: benchmarks/results/...-*.json)")
    parser.add_argument("--strict", action="store_true",
                        help="exit with status 3 when DDQ does not pick the faster precision")
    args = parser.parse_args(argv)
    if args.docs < 1 or args.repeats < 1:
        parser.error("--docs and --repeats must be at least 1")
    return args


if __name__ == "__main__":
    sys.exit(run_benchmark("bench_openvino_precision", parse_args(sys.argv[1:]), run, render))
