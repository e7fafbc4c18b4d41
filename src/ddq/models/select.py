"""``DDQ_EMBEDDER=auto``: the shipped model on the runtime that is fastest on this CPU.

The same all-MiniLM-L6-v2 weights run on three runtimes; which is fastest depends on the CPU
(benchmarks/bench_embedders.py, docs/performance.md "Issue 22"):

- Intel AMX (``amx_bf16``): OpenVINO in bf16 (~1.45x int8 ONNX Runtime's tokens/s there);
- AVX2 and up without AMX (AVX512-VNNI, AVX-VNNI, plain AVX2 — e.g. AMD EPYC): int8 ONNX
  Runtime (1.6-1.7x OpenVINO f32 on an AMD EPYC with avx512_bf16/vnni), which runs each text
  alone so its vector does not depend on its batch-mates;
- flags unknown (not Linux) or no AVX2: OpenVINO, which picks its own precision.

A runtime whose package is not installed is skipped for the next one (torch last), and the
reason says so. The embedder a data directory's knowledge base is embedded with is recorded
there (``embedder.json``), and ``auto`` keeps it when the package set or the machine changes,
so stored vectors are never searched with another runtime's; ``DDQ_EMBEDDER=<provider:model>``
always wins (the first embedder used there is the one recorded); deleting the file, then
``ddq reindex``, chooses again.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ddq.models.openvino import cpu_flags

log = logging.getLogger(__name__)

AUTO = "auto"
RECORD = "embedder.json"
OPENVINO = "openvino:all-MiniLM-L6-v2"
INT8 = "onnx:all-MiniLM-L6-v2"
TORCH = "local:all-MiniLM-L6-v2"
#: What each runtime needs installed to run (the export, made once, also needs torch).
NEEDS = {
    OPENVINO: ("openvino", "tokenizers"),
    INT8: ("onnxruntime", "tokenizers"),
    TORCH: ("torch", "sentence_transformers"),
}
_INT8_FLAGS = ("avx512_vnni", "avx_vnni", "avx2")
#: What a data directory holds once it has a knowledge base (SQLite store, Milvus Lite).
_LEGACY = ("ddq.sqlite3", "milvus.db")


@dataclass(frozen=True, slots=True)
class Choice:
    embedder: str
    reason: str


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def choose_embedder(
    flags: frozenset[str] | None, installed: Callable[[str], bool] = _installed
) -> Choice:
    """The embedder for a CPU with ``flags`` (None: unknown), from what is installed."""
    if flags is not None and "amx_bf16" in flags:
        order, why = (OPENVINO, INT8, TORCH), "Intel AMX: OpenVINO bf16 is fastest"
    elif flags is not None and any(f in flags for f in _INT8_FLAGS):
        best = next(f for f in _INT8_FLAGS if f in flags)
        order, why = (INT8, OPENVINO, TORCH), f"{best}, no AMX: int8 ONNX Runtime is fastest"
    else:
        order = (OPENVINO, INT8, TORCH)
        why = "CPU flags unknown" if flags is None else "no AVX2: OpenVINO picks its precision"
    missing: list[str] = []
    for name in order:
        if all(installed(m) for m in NEEDS[name]):
            skipped = f"; {', '.join(missing)} not installed" if missing else ""
            return Choice(name, f"{why}{skipped}")
        missing.append(name.partition(":")[0])
    return Choice(TORCH, f"{why}; no embedding runtime is installed (pip install 'ddq[local]')")


def auto_embedder(
    home: Path,
    *,
    flags: frozenset[str] | None = None,
    installed: Callable[[str], bool] = _installed,
) -> Choice:
    """The ``auto`` embedder of the data directory ``home``: the one its knowledge base was
    embedded with (recorded there by :func:`remember_embedder`) if that can run here; for a
    knowledge base made before the record existed, the default of then (OpenVINO); else the
    one chosen for this CPU."""
    record = home / RECORD
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        name = str(json.loads(record.read_text(encoding="utf-8"))["embedder"])
        if name in NEEDS and all(installed(m) for m in NEEDS[name]):
            return Choice(name, f"the embedder of this knowledge base ({record})")
        if name in NEEDS:
            log.warning(
                "the embedder recorded in %s (%s) cannot run here; choosing again", record, name
            )
    made_before = not record.exists() and any((home / f).exists() for f in _LEGACY)
    if made_before and all(installed(m) for m in NEEDS[OPENVINO]):
        return Choice(OPENVINO, "a knowledge base made before embedder auto: its default")
    return choose_embedder(cpu_flags() if flags is None else flags, installed)


def remember_embedder(home: Path, name: str) -> None:
    """Record in ``home`` the embedder its knowledge base is embedded with: the first one used
    there (a later one is refused by the reindex guard; after ``ddq reindex`` with another,
    delete the file). Best effort: a read-only or missing data directory records nothing."""
    record = home / RECORD
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        if json.loads(record.read_text(encoding="utf-8"))["embedder"]:
            return
    if not home.is_dir():
        return
    with contextlib.suppress(OSError):
        tmp = record.with_name(f".{RECORD}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"embedder": name}) + "\n", encoding="utf-8")
        os.replace(tmp, record)
