"""``DDQ_EMBEDDER=auto``: the runtime chosen from the CPU's flags and what is installed, kept
in the data directory, and never a crash on a damaged record."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from ddq.config import Settings
from ddq.models.registry import embedder_name
from ddq.models.select import (
    INT8,
    OPENVINO,
    RECORD,
    TORCH,
    auto_embedder,
    choose_embedder,
    remember_embedder,
)

pytestmark = pytest.mark.unit

SAPPHIRE_RAPIDS = frozenset(
    {"avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_tile", "amx_int8"}
)
EPYC_GENOA = frozenset({"avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16"})
HASWELL = frozenset({"avx", "avx2", "fma"})
OLD_ATOM = frozenset({"sse4_2", "ssse3"})


def everything(_module: str) -> bool:
    return True


def without(*missing: str) -> Callable[[str], bool]:
    return lambda module: module not in missing


def test_the_fastest_runtime_for_each_cpu_kind() -> None:
    assert choose_embedder(SAPPHIRE_RAPIDS, everything).embedder == OPENVINO
    epyc = choose_embedder(EPYC_GENOA, everything)
    assert epyc.embedder == INT8 and "avx512_vnni, no AMX" in epyc.reason
    assert choose_embedder(HASWELL, everything).embedder == INT8
    assert choose_embedder(OLD_ATOM, everything).embedder == OPENVINO
    unknown = choose_embedder(None, everything)
    assert unknown.embedder == OPENVINO and "unknown" in unknown.reason


def test_a_missing_runtime_falls_to_the_next_and_says_so() -> None:
    amx = choose_embedder(SAPPHIRE_RAPIDS, without("openvino"))
    assert amx.embedder == INT8 and "openvino not installed" in amx.reason
    epyc = choose_embedder(EPYC_GENOA, without("onnxruntime", "openvino"))
    assert epyc.embedder == TORCH and "onnx, openvino not installed" in epyc.reason
    nothing = choose_embedder(EPYC_GENOA, lambda _m: False)
    assert nothing.embedder == TORCH and "pip install" in nothing.reason


def test_the_embedder_of_a_knowledge_base_is_kept(tmp_path: Path) -> None:
    assert auto_embedder(tmp_path, flags=EPYC_GENOA, installed=everything).embedder == INT8
    remember_embedder(tmp_path, INT8)
    assert json.loads((tmp_path / RECORD).read_text())["embedder"] == INT8
    # The same data directory on an AMX machine keeps the vectors it was indexed with.
    again = auto_embedder(tmp_path, flags=SAPPHIRE_RAPIDS, installed=everything)
    assert again.embedder == INT8 and "embedder of this knowledge base" in again.reason


def test_a_knowledge_base_from_before_auto_keeps_the_default_of_then(tmp_path: Path) -> None:
    (tmp_path / "ddq.sqlite3").write_bytes(b"")
    assert auto_embedder(tmp_path, flags=EPYC_GENOA, installed=everything).embedder == OPENVINO
    remember_embedder(tmp_path, OPENVINO)
    remember_embedder(tmp_path, TORCH)  # a later one (the reindex guard refuses it) is not kept
    assert json.loads((tmp_path / RECORD).read_text())["embedder"] == OPENVINO


def test_a_damaged_or_unrunnable_record_is_chosen_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / RECORD).write_bytes(b"\x00{not json")
    choice = auto_embedder(tmp_path, flags=SAPPHIRE_RAPIDS, installed=everything)
    assert choice.embedder == OPENVINO
    remember_embedder(tmp_path, OPENVINO)  # a damaged record is written anew
    assert json.loads((tmp_path / RECORD).read_text())["embedder"] == OPENVINO
    with caplog.at_level(logging.WARNING, logger="ddq.models.select"):
        choice = auto_embedder(tmp_path, flags=SAPPHIRE_RAPIDS, installed=without("openvino"))
    assert choice.embedder == INT8
    assert "cannot run here" in caplog.text


def test_a_missing_data_directory_gets_a_choice_and_no_file(tmp_path: Path) -> None:
    home = tmp_path / "not-made-yet"
    assert auto_embedder(home, flags=HASWELL, installed=everything).embedder == INT8
    remember_embedder(home, INT8)
    assert not home.exists()


def test_settings_resolve_auto_and_an_explicit_name_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    explicit = Settings(home=tmp_path, embedder="local:all-MiniLM-L6-v2")
    assert embedder_name(explicit) == "local:all-MiniLM-L6-v2"
    assert explicit.embedder_choice is None
    monkeypatch.setenv("DDQ_EMBEDDER", "auto")
    auto = Settings(home=tmp_path / "new")
    # Resolved as the settings are read, so `ddq status` and every log name the real one.
    assert auto.embedder in (INT8, OPENVINO, TORCH)
    assert auto.embedder_choice
    assert embedder_name(auto) == auto.embedder
    # A data directory that recorded its embedder gets it back.
    (tmp_path / "kept").mkdir()
    remember_embedder(tmp_path / "kept", TORCH)
    assert Settings(home=tmp_path / "kept").embedder == TORCH
