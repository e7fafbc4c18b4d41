"""The REAL onnx embedder: all-MiniLM-L6-v2 exported from the shipped weights (offline) into a
temporary data directory once per module, run with ONNX Runtime, compared with the
sentence-transformers path it replaces."""

from __future__ import annotations

import json
import logging
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import ddq.models.onnx as onnx_module
from ddq.errors import DDQError, ErrorCode
from ddq.models.base import Embedder
from ddq.models.onnx import OnnxEmbedder, parse_onnx_name, valid_export

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NAME = "all-MiniLM-L6-v2"
LONG_PASSAGE = " ".join(
    f"Clause {n}: the processor keeps audit logs of every administrative action for a year, "
    "reviews them monthly, and reports anomalies to the customer within three days."
    for n in range(1, 25)
)  # well past the model's 256-token limit: truncated as sentence-transformers does
TEXTS = [
    "Is customer data encrypted at rest?",
    "Do you have a SOC 2 Type II report?",
    "MFA?",
    "Backups are taken daily and kept for 35 days in a second region.",
    "All employees complete security awareness training every year, and phishing "
    "simulations run every quarter.",
    "Describe your incident response process, including how and when customers are notified "
    "of a personal data breach.",
    "TLS 1.2+ protects data in transit; AES-256 protects it at rest.",
    "Qui est le délégué à la protection des données ? Übermittlung nach Drittländern.",
    "日本のデータセンターで処理されますか",
    "def rotate_keys(kms, every_days=365): return kms.schedule(every_days)",
    "The cafeteria serves lunch from noon until two.",
    "Our quarterly revenue grew by twelve percent.",
    "Penetration tests: annual, external firm, findings remediated within 30/60/90 days "
    "(critical/high/medium).",
    "What is the RPO and RTO for the production database?",
    "Vendors are assessed before onboarding and re-assessed every two years; high-risk "
    "vendors every year.",
    "Access to production requires a ticket, a peer approval, and expires after eight hours.",
    "UPPER CASE QUESTION ABOUT DATA RETENTION POLICIES?",
    "Mitochondrial DNA variants were associated with a reduced risk of Parkinson's disease in "
    "a cohort of 3,000 patients followed for ten years.",
    LONG_PASSAGE,
    "0.1 % of requests failed; p95 latency 120 ms; uptime 99.95 % (2024).",
]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", a, b)


def file_stamps(directory: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in sorted(directory.iterdir()) if p.is_file()}


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx-data")


@pytest.fixture(scope="module")
def int8(cache_dir: Path) -> Iterator[OnnxEmbedder]:
    """The int8 embedder, its export made here with the network switched off."""
    real_connect = socket.socket.connect

    def refuse(sock: socket.socket, address: object) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            raise OSError(f"network access attempted while exporting the model: {address}")
        real_connect(sock, address)  # type: ignore[arg-type]

    patch = pytest.MonkeyPatch()
    patch.setattr(socket.socket, "connect", refuse)
    handlers = list(logging.getLogger().handlers)
    try:
        embedder = OnnxEmbedder(NAME, cache_dir=cache_dir)
        embedder.embed(["warm up"])
        assert embedder.loaded
    finally:
        patch.undo()
    # The quantiser's logging.warning() must not leave a root handler behind (it would
    # print every library's debug records from then on).
    assert logging.getLogger().handlers == handlers
    yield embedder


@pytest.fixture(scope="module")
def export_dir(int8: OnnxEmbedder) -> Path:
    return int8.directory


@pytest.fixture(scope="module")
def int8_vectors(int8: OnnxEmbedder) -> np.ndarray:
    return int8.embed(TEXTS)


# --- the tests -----------------------------------------------------------------------------


def test_names_and_precisions() -> None:
    assert parse_onnx_name("all-MiniLM-L6-v2") == (NAME, "int8")
    assert parse_onnx_name("onnx:all-MiniLM-L6-v2-fp32") == (NAME, "fp32")
    for bad in ("all-MiniLM-L12-v2", "all-MiniLM-L6-v2-int4", ""):
        with pytest.raises(DDQError) as caught:
            parse_onnx_name(bad)
        assert caught.value.code is ErrorCode.CONFIG
    with pytest.raises(DDQError) as caught:
        OnnxEmbedder(NAME, cache_dir=Path("unused"), precision="int4")
    assert caught.value.code is ErrorCode.CONFIG


def test_export_layout(export_dir: Path) -> None:
    names = {p.name for p in export_dir.iterdir()}
    assert {"model-fp32.onnx", "model-int8.onnx", "tokenizer.json", "manifest.json"} <= names
    assert not [n for n in names if n.endswith(".tmp")]  # no half-written leftovers
    manifest = json.loads((export_dir / "manifest.json").read_text())
    assert manifest["opset"] == 17
    assert manifest["source"]["file"] == "model.safetensors"
    assert len(manifest["source"]["sha256"]) == 64
    assert manifest["files"]["model-int8.onnx"]["size"] == (
        (export_dir / "model-int8.onnx").stat().st_size
    )
    assert manifest["onnxruntime"]


def test_vectors_are_384_d_normalised_and_semantic(
    int8: OnnxEmbedder, int8_vectors: np.ndarray
) -> None:
    assert int8.model_id == "onnx:all-MiniLM-L6-v2"
    assert int8.dimension == 384
    assert int8_vectors.shape == (len(TEXTS), 384) and int8_vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(int8_vectors, axis=1), 1.0, atol=1e-4)
    question, paraphrase, unrelated = int8.embed(
        [
            "Is customer data encrypted when it is stored?",
            "All client information is encrypted at rest.",
            "The cafeteria serves lunch from noon until two.",
        ]
    )
    assert float(question @ paraphrase) > float(question @ unrelated) + 0.3
    assert int8.embed([""]).shape == (1, 384)
    assert int8.embed([]).shape == (0, 384)
    # Counting uses the model's own tokenizer, without special tokens or truncation.
    assert int8.count_tokens(["encryption", "hello world", ""]) == [1, 2, 0]
    assert int8.count_tokens([LONG_PASSAGE])[0] > 256


def test_same_text_same_vector_and_order_survives_length_sorting(
    int8: OnnxEmbedder, int8_vectors: np.ndarray
) -> None:
    np.testing.assert_array_equal(int8.embed(TEXTS), int8_vectors)
    permutation = np.random.default_rng(7).permutation(len(TEXTS))
    shuffled = int8.embed([TEXTS[i] for i in permutation])
    similarity = shuffled @ int8_vectors.T
    assert list(similarity.argmax(axis=1)) == list(permutation)
    assert cosines(shuffled, int8_vectors[permutation]).min() > 0.999


def test_an_int8_vector_is_the_same_alone_and_in_any_batch(
    int8: OnnxEmbedder, int8_vectors: np.ndarray
) -> None:
    """Each text runs alone (its own activation scale, no padding), so a question asked on
    its own gets the vector its twin got inside a questionnaire's batch (issue #7: 377/500)."""
    alone = np.vstack([int8.embed_one(text) for text in TEXTS])  # the one-thread path
    np.testing.assert_allclose(alone, int8_vectors, rtol=0, atol=1e-6)
    rng = np.random.default_rng(11)
    filler = ["MFA?", "x " * 200, "Backups are encrypted.", LONG_PASSAGE[:900]]
    for size in (2, 5, 13, len(TEXTS)):
        picks = rng.choice(len(TEXTS), size=size, replace=False)
        # Other neighbours, other lengths (other padding had there been any), another order.
        batch = int8.embed([*filler[: size % 4], *(TEXTS[i] for i in picks), *filler])
        start = size % 4
        np.testing.assert_allclose(
            batch[start : start + size], int8_vectors[picks], rtol=0, atol=1e-6
        )


def test_int8_stays_close_to_sentence_transformers(
    int8: OnnxEmbedder, int8_vectors: np.ndarray, local_embedder: Embedder
) -> None:
    reference = local_embedder.embed(TEXTS)
    alone = np.vstack([int8.embed_one(text) for text in TEXTS])  # as a question is asked
    for vectors in (int8_vectors, alone):
        similarity = cosines(vectors, reference)
        worst = int(similarity.argmin())
        assert similarity.min() >= 0.98, f"{similarity.min():.4f} for {TEXTS[worst]!r}"
        assert similarity.mean() >= 0.99


def test_fp32_matches_sentence_transformers(
    int8: OnnxEmbedder, cache_dir: Path, local_embedder: Embedder
) -> None:
    before = file_stamps(int8.directory)
    fp32 = OnnxEmbedder(NAME, cache_dir=cache_dir, precision="fp32")
    assert fp32.model_id == "onnx:all-MiniLM-L6-v2-fp32"
    similarity = cosines(fp32.embed(TEXTS), local_embedder.embed(TEXTS))
    assert similarity.min() >= 0.9999
    assert file_stamps(int8.directory) == before  # the int8 export already made fp32


def test_a_second_embedder_reuses_the_export(
    int8: OnnxEmbedder, cache_dir: Path, int8_vectors: np.ndarray
) -> None:
    before = file_stamps(int8.directory)
    again = OnnxEmbedder(NAME, cache_dir=cache_dir)
    np.testing.assert_array_equal(again.embed(TEXTS), int8_vectors)
    assert file_stamps(int8.directory) == before


def test_a_damaged_export_is_made_again_once(
    export_dir: Path,
    tmp_path: Path,
    int8_vectors: np.ndarray,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = tmp_path / "data"
    copy = data / "onnx" / NAME
    shutil.copytree(export_dir, copy)
    model = copy / "model-int8.onnx"
    assert valid_export(NAME, copy) is not None

    # Same size, other bytes: caught by the hash.
    raw = bytearray(model.read_bytes())
    raw[len(raw) // 2 : len(raw) // 2 + 64] = bytes(64)
    model.write_bytes(raw)
    assert valid_export(NAME, copy) is None
    assert valid_export(NAME, copy, precision="fp32") is not None

    # Truncated, and two embedders starting at once: one export, both get good vectors.
    model.write_bytes(bytes(raw[: len(raw) // 3]))
    exports = []
    real_export = onnx_module._export

    def counted(*args: object) -> object:
        exports.append(threading.get_ident())
        return real_export(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(onnx_module, "_export", counted)
    results: dict[int, np.ndarray] = {}
    errors: list[BaseException] = []

    def embed(slot: int) -> None:
        try:
            results[slot] = OnnxEmbedder(NAME, cache_dir=data).embed(TEXTS)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=embed, args=(slot,)) for slot in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(exports) == 1
    assert valid_export(NAME, copy) is not None
    for vectors in results.values():
        assert cosines(vectors, int8_vectors).min() >= 0.9999
    assert not [p.name for p in copy.iterdir() if p.name.endswith(".tmp")]


RUN_WITHOUT_TORCH = """
import sys
from pathlib import Path
for blocked in ("torch", "transformers", "sentence_transformers"):
    sys.modules[blocked] = None  # any import of these now fails
from ddq.errors import DDQError
from ddq.models.onnx import OnnxEmbedder
try:
    vectors = OnnxEmbedder(cache_dir=Path(sys.argv[1])).embed(["Is data encrypted?"] * 5)
except DDQError as exc:
    print("error", exc.code.value, exc)
else:
    print("ok", vectors.shape, round(float((vectors[0] ** 2).sum()), 3))
"""


def _without_torch(cache_dir: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", RUN_WITHOUT_TORCH, str(cache_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_an_export_runs_without_torch(int8: OnnxEmbedder, cache_dir: Path) -> None:
    assert _without_torch(cache_dir) == "ok (5, 384) 1.0"


def test_making_an_export_without_torch_names_the_local_extra(tmp_path: Path) -> None:
    out = _without_torch(tmp_path)
    assert out.startswith("error model_unavailable"), out
    assert "'local' extra" in out
