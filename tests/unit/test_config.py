"""Settings: defaults < TOML file < DDQ_ environment < explicit overrides; bad values are
configuration errors with a message that names the setting; nothing is read at import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ddq.config import Settings, load_settings
from ddq.errors import DDQError, ErrorCode

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def _cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # load_settings looks for .ddq/config.toml relative to the working directory.
    monkeypatch.chdir(tmp_path)


def test_defaults_keep_all_state_under_home(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.workspace == "default"
    assert settings.embedder == "openvino:all-MiniLM-L6-v2"
    home = Settings(home=tmp_path / "h", model_dir=None)
    root = (tmp_path / "h").resolve()
    assert home.resolved_model_dir == root / "models"
    assert home.resolved_database_url == f"sqlite:///{root / 'ddq.sqlite3'}"
    assert home.resolved_milvus_uri == str(root / "milvus.db")
    assert home.keyword_index_dir == tmp_path / "h" / "keyword"


def test_environment_variables_with_ddq_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DDQ_WORKSPACE", "acme")
    monkeypatch.setenv("DDQ_CHUNK_TOKENS", "300")
    monkeypatch.setenv("DDQ_EMBEDDER", "fake:hashing-32")
    settings = load_settings()
    assert (settings.workspace, settings.chunk_tokens) == ("acme", 300)
    assert settings.embedder == "fake:hashing-32"


def test_unrelated_ddq_variables_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    # The test runner itself sets DDQ_TEST_POSTGRES_URL; it must not break the settings.
    monkeypatch.setenv("DDQ_TEST_SOMETHING", "x")
    assert load_settings().workspace == "default"


def test_toml_file_with_ddq_table(tmp_path: Path) -> None:
    config = tmp_path / "ddq.toml"
    config.write_text('[ddq]\nworkspace = "fromfile"\nchunk_tokens = 120\n')
    settings = load_settings(config)
    assert (settings.workspace, settings.chunk_tokens) == ("fromfile", 120)


def test_toml_file_without_table_and_via_ddq_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "flat.toml"
    config.write_text("retrieval_top_k = 3\n")
    monkeypatch.setenv("DDQ_CONFIG", str(config))
    assert load_settings().retrieval_top_k == 3


def test_config_toml_in_ddq_home_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "state"
    home.mkdir()
    (home / "config.toml").write_text("[ddq]\nrrf_k = 7\n")
    monkeypatch.setenv("DDQ_HOME", str(home))
    settings = load_settings()
    assert settings.rrf_k == 7
    assert settings.home == home


def test_precedence_file_then_env_then_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "ddq.toml"
    config.write_text('[ddq]\nworkspace = "fromfile"\ncandidate_k = 11\nrrf_k = 5\n')
    monkeypatch.setenv("DDQ_WORKSPACE", "fromenv")
    monkeypatch.setenv("DDQ_CANDIDATE_K", "22")
    settings = load_settings(config, workspace="fromflag")
    assert settings.workspace == "fromflag"  # an explicit option beats everything
    assert settings.candidate_k == 22  # the environment beats the file
    assert settings.rrf_k == 5  # the file beats the default
    # None means "option not given", not "set to None".
    assert load_settings(config, workspace=None).workspace == "fromenv"


@pytest.mark.parametrize(
    ("env", "value", "named"),
    [
        ("DDQ_WORKSPACE", "no spaces allowed", "workspace"),
        ("DDQ_CHUNK_TOKENS", "5", "chunk_tokens"),
        ("DDQ_CHUNK_TOKENS", "many", "chunk_tokens"),
        ("DDQ_LIBRARY_MATCH_THRESHOLD", "1.5", "library_match_threshold"),
        ("DDQ_OPENVINO_PRECISION", "fp8", "openvino_precision"),
    ],
)
def test_invalid_environment_value_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, named: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(DDQError) as caught:
        load_settings()
    assert caught.value.code is ErrorCode.CONFIG
    assert f"invalid setting {named}" in caught.value.detail


def test_unknown_key_in_file_is_rejected(tmp_path: Path) -> None:
    config = tmp_path / "ddq.toml"
    config.write_text("[ddq]\nchunk_tokenz = 100\n")
    with pytest.raises(DDQError) as caught:
        load_settings(config)
    assert caught.value.code is ErrorCode.CONFIG
    assert "chunk_tokenz" in caught.value.detail


def test_malformed_toml_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "broken.toml"
    config.write_text("[ddq\nworkspace = \n")
    with pytest.raises(DDQError) as caught:
        load_settings(config)
    assert caught.value.code is ErrorCode.CONFIG
    assert str(config) in caught.value.detail
    assert "not valid TOML" in caught.value.detail


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DDQError) as caught:
        load_settings(tmp_path / "nope.toml")
    assert caught.value.code is ErrorCode.CONFIG
    assert "nope.toml does not exist" in caught.value.detail


def test_nothing_is_read_at_import(tmp_path: Path) -> None:
    """Importing every module with broken settings in the environment must not fail."""
    env = {
        "PATH": "/usr/bin:/bin",
        "DDQ_WORKSPACE": "not valid!",
        "DDQ_CHUNK_TOKENS": "lots",
        "DDQ_CONFIG": str(tmp_path / "missing.toml"),
    }
    code = (
        "import ddq.config, ddq.kb, ddq.cli, ddq.eval.beir\n"
        "assert ddq.config.get_settings.cache_info().currsize == 0\n"
        "try:\n    ddq.config.get_settings()\nexcept ddq.errors.DDQError as e:\n"
        "    print('deferred:', e.code.value)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "deferred: config_error"
