"""Run llama.cpp's OpenAI-compatible server (``llama_cpp.server``) for tests.

The server is ``llama-cpp-python[server]``, started as a child process of the test
session in its own process group, bound to 127.0.0.1 on a free port.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0

# llama_cpp itself plus what the [server] extra brings.
SERVER_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context")


class LlamaServerError(RuntimeError):
    """The server exited or did not become ready in time."""


def llama_cpp_available() -> bool:
    """True when ``llama-cpp-python[server]`` is importable (without importing it)."""
    return all(importlib.util.find_spec(name) is not None for name in SERVER_MODULES)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no output)"
    return "\n".join(text.splitlines()[-lines:]) or "(no output)"


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=STOP_TIMEOUT_S)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_S)


@contextmanager
def run_llama_server(
    model_path: Path,
    *,
    port: int | None = None,
    n_ctx: int = 2048,
    extra_args: Sequence[str] = (),
    ready_timeout_s: float = READY_TIMEOUT_S,
) -> Iterator[str]:
    """Start ``python -m llama_cpp.server`` on ``model_path``; yield its ``.../v1`` URL.

    Waits until ``GET /v1/models`` answers; raises :class:`LlamaServerError` with the tail
    of the server's output if it exits first or is not ready within ``ready_timeout_s``.
    The whole process group is terminated on exit.
    """
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model_path),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", str(n_ctx),
        *extra_args,
    ]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="llama-server-") as folder:
        log_path = Path(folder) / "server.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, stopped as a whole
            )
        try:
            deadline = time.monotonic() + ready_timeout_s
            while not _answers(f"{base_url}/models"):
                if process.poll() is not None:
                    raise LlamaServerError(
                        f"llama_cpp.server exited with code {process.returncode} before "
                        f"answering ({' '.join(command)}); its output ends:\n{_tail(log_path)}"
                    )
                if time.monotonic() > deadline:
                    raise LlamaServerError(
                        f"llama_cpp.server did not answer GET {base_url}/models within "
                        f"{ready_timeout_s:.0f} s; its output ends:\n{_tail(log_path)}"
                    )
                time.sleep(0.1)
            yield base_url
        finally:
            _stop(process)
