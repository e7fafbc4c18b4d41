"""The model registry, the shipped FAKE embedder, and the openvino provider's choice of
precision from the CPU's flags."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ddq.errors import DDQError, ErrorCode
from ddq.models.base import approximate_token_count
from ddq.models.calls import GuardedEmbedder
from ddq.models.fake import FakeHashingEmbedder
from ddq.models.openvino import cpu_flags, preferred_precision
from ddq.models.registry import resolve_embedder

pytestmark = pytest.mark.unit


def test_fake_provider_resolves_with_its_dimension() -> None:
    embedder = resolve_embedder("fake:hashing-32")
    assert isinstance(embedder, GuardedEmbedder)  # every model gets the call policy
    assert isinstance(embedder.inner, FakeHashingEmbedder)
    assert (embedder.model_id, embedder.dimension) == ("fake:hashing-32", 32)
    assert embedder.embed(["hello"]).shape == (1, 32)


def test_resolved_models_are_cached_per_name() -> None:
    assert resolve_embedder("fake:hashing-64") is resolve_embedder("fake:hashing-64")
    assert resolve_embedder("fake:hashing-64") is not resolve_embedder("fake:hashing-16")


def test_unknown_provider_is_a_config_error() -> None:
    with pytest.raises(DDQError) as caught:
        resolve_embedder("openia:text-embedding-3")
    assert caught.value.code is ErrorCode.CONFIG
    assert "unknown embedder provider 'openia'" in caught.value.detail
    assert "local" in caught.value.detail  # it says which providers exist


@pytest.mark.parametrize("name", ["all-MiniLM-L6-v2", "local:", ":model", ""])
def test_malformed_model_name_is_a_config_error(name: str) -> None:
    with pytest.raises(DDQError) as caught:
        resolve_embedder(name)
    assert caught.value.code is ErrorCode.CONFIG
    assert "provider:model" in caught.value.detail


def test_unknown_local_model_lists_the_shipped_ones() -> None:
    with pytest.raises(DDQError) as caught:
        resolve_embedder("local:bert-huge")
    assert caught.value.code is ErrorCode.CONFIG
    assert "all-MiniLM-L6-v2" in caught.value.detail


def test_fake_embedder_is_deterministic_across_instances() -> None:
    texts = ["Customer data is encrypted at rest.", "Backups run daily.", ""]
    first = FakeHashingEmbedder().embed(texts)
    second = FakeHashingEmbedder().embed(texts)
    assert first.dtype == np.float32
    assert first.shape == (3, 64)
    np.testing.assert_array_equal(first, second)


def test_fake_embedder_vectors_are_unit_length() -> None:
    vectors = FakeHashingEmbedder().embed(["a b c", "Encryption at rest", "", "!!!"])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)


def test_fake_embedder_similarity_follows_shared_words() -> None:
    embedder = FakeHashingEmbedder()
    query, near, far = embedder.embed(
        [
            "is customer data encrypted at rest",
            "customer data is encrypted at rest with AES-256",
            "the cafeteria serves lunch at noon on fridays",
        ]
    )
    assert float(query @ near) > float(query @ far) + 0.3
    # Case and punctuation do not matter to it.
    np.testing.assert_array_equal(
        embedder.embed_one("Data, AT rest!"), embedder.embed_one("data at rest")
    )


def test_embed_splits_into_batches_and_counts_calls() -> None:
    embedder = FakeHashingEmbedder()
    embedder.max_batch_size = 4
    vectors = embedder.embed([f"text {i}" for i in range(10)])
    assert vectors.shape == (10, 64)
    assert (embedder.calls, embedder.texts_embedded) == (3, 10)
    assert embedder.embed([]).shape == (0, 64)
    assert embedder.calls == 3  # an empty request does not call the model


def test_approximate_token_count_grows_with_text() -> None:
    assert approximate_token_count("") == 1
    assert approximate_token_count("one two three") < approximate_token_count(
        "one two three four five six, seven."
    )


def test_the_precision_is_read_from_the_cpu_flags(tmp_path: Path) -> None:
    amx = tmp_path / "amx"
    amx.write_text("processor\t: 0\nflags\t\t: fpu avx512f avx512_bf16 amx_bf16 amx_tile\n\n"
                   "processor\t: 1\nflags\t\t: fpu avx512f avx512_bf16 amx_bf16 amx_tile\n")
    hidden = tmp_path / "hidden"
    hidden.write_text("processor\t: 0\nflags\t\t: fpu avx512f avx512_bf16 avx512_fp16\n")
    arm = tmp_path / "arm"
    arm.write_text("processor\t: 0\nFeatures\t: fp asimd bf16\n")
    assert preferred_precision(cpu_flags(amx)) == "bf16"
    assert preferred_precision(cpu_flags(hidden)) == "f32"
    # Flags Linux does not list (another architecture, another OS): OpenVINO decides.
    assert cpu_flags(arm) is None and preferred_precision(cpu_flags(arm)) is None
    assert cpu_flags(tmp_path / "missing") is None
