"""The openvino provider: the onnx provider's fp32 export of the shipped all-MiniLM-L6-v2,
compiled by OpenVINO for the CPU.

The graph runs in bfloat16 on CPUs with Intel AMX and in fp32 elsewhere (DDQ decides from
the CPU's flags where Linux lists them, OpenVINO itself where it does not; the compiled
model reports which, as ``inference_precision``). Left to itself, OpenVINO picks bf16 on any
CPU with AVX512-BF16; without AMX that ran at 0.6x f32's tokens per second (a Xeon VM
whose hypervisor hides AMX, 2026-11-27), so such CPUs get f32
(``DDQ_OPENVINO_PRECISION`` names the precision instead). With AMX (the 2-core
machines DDQ was first measured on), bf16 is ~1.45x the tokens per second of the int8 ONNX
Runtime path; without it, int8 ONNX Runtime is the faster one (~1.5x f32 on that VM). Either
way the vectors sit at cosine 0.9999 to torch fp32 (int8: 0.991-0.995), and a text's vector
does not depend on the texts batched with it (int8's per-run activation scale makes it).
The export, its cache folder and the tokenizer are the onnx provider's
(``<model dir>/onnx/<name>/``); making the export once needs the 'local' and 'onnx' extras,
running it needs only openvino, tokenizers and numpy.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ddq.errors import DDQError, ErrorCode
from ddq.models.base import Vectors
from ddq.models.local import SHIPPED_MODELS
from ddq.models.onnx import OnnxEmbedder, mean_pool, padded

_HINT = "needs the 'openvino' extra: pip install 'ddq[openvino]'"
#: Tokens (rows x padded width) per inference; OpenVINO keeps its speed on wider runs than
#: ONNX Runtime (chunks/s within 5% from 1,024 to 4,096 tokens).
TOKEN_BUDGET = 2048
#: What the model may be asked to compute in (``DDQ_OPENVINO_PRECISION``).
PRECISION_HINTS = ("auto", "bf16", "f32")


def parse_openvino_name(model: str) -> str:
    bare = model.removeprefix("openvino:")
    if bare not in SHIPPED_MODELS:
        known = ", ".join(f"openvino:{n}" for n in sorted(SHIPPED_MODELS))
        raise DDQError(ErrorCode.CONFIG, f"unknown openvino model {model!r}; known: {known}")
    return bare


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str] | None:
    """The CPU's feature flags as Linux lists them, or None where it does not (another OS,
    another architecture's format, no permission)."""
    try:
        with cpuinfo.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key.strip() == "flags":
                    return frozenset(value.split())
    except OSError:
        return None
    return None


def preferred_precision(flags: frozenset[str] | None) -> str | None:
    """bf16 where AMX computes it, f32 on a CPU OpenVINO would otherwise run in bf16 without
    AMX (AVX512-BF16 alone: 0.6x f32's tokens/s, measured), None (OpenVINO's own choice)
    where the flags are unknown."""
    if flags is None:
        return None
    return "bf16" if "amx_bf16" in flags else "f32"


class OpenVinoEmbedder(OnnxEmbedder):
    """A shipped sentence-transformers model through OpenVINO on the CPU."""

    runtime_name = "OpenVINO"

    def __init__(self, name: str = "all-MiniLM-L6-v2", *, cache_dir: Path,
                 batch_size: int = 64, token_budget: int = TOKEN_BUDGET,
                 precision_hint: str = "auto") -> None:
        if precision_hint not in PRECISION_HINTS:
            raise DDQError(ErrorCode.CONFIG,
                           f"unknown openvino precision {precision_hint!r}; known: "
                           f"{', '.join(PRECISION_HINTS)}")
        if importlib.util.find_spec("openvino") is None:
            raise DDQError(ErrorCode.MODEL_UNAVAILABLE,
                           f"the openvino embedding model {_HINT} (missing openvino)")
        super().__init__(name, cache_dir=cache_dir, batch_size=batch_size, precision="fp32",
                         token_budget=token_budget)
        self.model_id = f"openvino:{name}"
        #: "auto" (:func:`preferred_precision` of this CPU), "bf16" or "f32".
        self.precision_hint = precision_hint
        # What both compiled models (bulk and single) are asked for; None: OpenVINO decides.
        self._precision = (preferred_precision(cpu_flags()) if precision_hint == "auto"
                           else precision_hint)
        self._requests = threading.local()

    def _import_runtime(self) -> Any:
        try:
            import openvino
        except ImportError as exc:
            raise DDQError(ErrorCode.MODEL_UNAVAILABLE,
                           f"the openvino embedding model {_HINT}") from exc
        return openvino

    def _make_session(self, threads: int) -> Any:
        core = self._ort.Core()
        config: dict[str, Any] = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
        if self._precision is not None:
            config["INFERENCE_PRECISION_HINT"] = self._precision
        return core.compile_model(str(self.model_path), "CPU", config)

    @property
    def inference_precision(self) -> str:
        """What OpenVINO computes in on this machine ("bf16" or "f32"); loads the model."""
        session = self._session_for(self.max_batch_size)  # the bulk model, as ingestion uses
        return str(session.get_property("INFERENCE_PRECISION_HINT").get_type_name())

    def _forward(self, session: Any, ids: Sequence[Sequence[int]]) -> Vectors:
        # An infer request is not safe to share between threads: one per thread and model.
        requests: dict[int, Any] = self._requests.__dict__.setdefault("by_model", {})
        request = requests.get(id(session))
        if request is None:
            request = requests[id(session)] = session.create_infer_request()
        input_ids, mask = padded(ids)
        feeds = {"input_ids": input_ids, "attention_mask": mask,
                 "token_type_ids": np.zeros_like(input_ids)}
        wanted = {port.get_any_name() for port in session.inputs}
        hidden = request.infer({k: v for k, v in feeds.items() if k in wanted})[0]
        return mean_pool(hidden, mask)

