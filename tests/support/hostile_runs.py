"""Running hostile files through DDQ's four paths and measuring what that cost.

- :func:`run_cli` runs ``python -m ddq.cli ...`` as a real subprocess (from a lean
  launcher) and reaps it with ``os.wait4``, so each run's own peak memory (``ru_maxrss``)
  and CPU time are known.
- :class:`CliForks` does the same for many runs at a fraction of the CPU: one fresh
  interpreter imports ``ddq.cli`` once, then forks a process per run that calls
  ``ddq.cli.main()`` with the run's arguments (what ``python -m ddq.cli`` does, without
  starting and importing again); each forked process is reaped with ``os.wait4``, so its
  peak memory includes everything it inherited, as a real run's would.
- :class:`ServeProcess` is a real ``ddq serve`` subprocess on loopback, with its peak memory
  read from ``/proc/PID/status`` (``VmHWM``: the high-water mark of its resident set).
- :func:`store_counts` reads what a data directory stores (documents, chunks,
  questionnaires, audit entries) straight from its SQLite file.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from support.hostile_files import build_all
from support.service import free_port


def hostile_files(factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The catalogue built once per test session (shared by every module that asks)."""
    folder = factory.getbasetemp() / "hostile-files"
    marker = folder / ".built"
    if not marker.exists():
        built = build_all(folder)
        marker.write_text(json.dumps({k: str(v) for k, v in built.items()}))
    return {k: Path(v) for k, v in json.loads(marker.read_text()).items()}


def cli_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DDQ_")}
    env.update({"DDQ_HOME": str(home), "DDQ_EMBEDDER": "fake:hashing-64", "NO_COLOR": "1",
                "COLUMNS": "200"})
    return env


@dataclass(frozen=True, slots=True)
class CliRun:
    returncode: int
    stdout: str
    stderr: str
    wall_s: float
    cpu_s: float
    peak_mb: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


#: Forks and execs ``python -m ddq.cli ARGS`` and writes the child's rusage. A lean launcher
#: because Linux carries the parent's memory high-water mark into a child's ``ru_maxrss``
#: across fork and exec: measured straight from a test process holding 1 GB, every CLI run
#: would "peak" at 1 GB.
_LAUNCHER = r"""
import json, os, sys, time
out, err, result, *argv = sys.argv[1:]
started = time.monotonic()
pid = os.fork()
if pid == 0:
    for fd, name in ((1, out), (2, err)):
        os.dup2(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), fd)
    os.execv(sys.executable, [sys.executable, "-m", "ddq.cli", *argv])
_, status, usage = os.wait4(pid, 0)
with open(result, "w") as handle:
    json.dump({"status": os.waitstatus_to_exitcode(status), "wall": time.monotonic() - started,
               "cpu": usage.ru_utime + usage.ru_stime, "maxrss_kb": usage.ru_maxrss}, handle)
"""


def run_cli(args: list[str], env: Mapping[str, str], *, timeout_s: float = 180) -> CliRun:
    """``python -m ddq.cli ARGS`` as a real subprocess, with its own peak memory and CPU."""
    with tempfile.TemporaryDirectory(prefix="ddq-cli-run-") as folder:
        out, err, result = (Path(folder) / n for n in ("out", "err", "result.json"))
        subprocess.run([sys.executable, "-c", _LAUNCHER, str(out), str(err), str(result),
                        *args], env=dict(env), stdin=subprocess.DEVNULL, timeout=timeout_s,
                       check=True)
        reply = json.loads(result.read_text())
        return CliRun(reply["status"], out.read_text(errors="replace"),
                      err.read_text(errors="replace"), reply["wall"], reply["cpu"],
                      reply["maxrss_kb"] / 1024)


_FORK_SERVER = r"""
import json, os, signal, sys, time, traceback
import ddq.cli

for line in sys.stdin:
    request = json.loads(line)
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            for fd, name in ((1, request["out"]), (2, request["err"])):
                target = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.dup2(target, fd)
            os.environ.clear()
            os.environ.update(request["env"])
            signal.alarm(int(request["timeout"]))
            sys.argv = ["ddq", *request["args"]]
            try:
                ddq.cli.main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except BaseException:
                traceback.print_exc()  # as the interpreter would print it
                code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status, usage = os.wait4(pid, 0)
    print(json.dumps({"status": os.waitstatus_to_exitcode(status),
                      "wall": time.monotonic() - started,
                      "cpu": usage.ru_utime + usage.ru_stime,
                      "maxrss_kb": usage.ru_maxrss}), flush=True)
"""


class CliForks:
    """Runs of ``ddq.cli.main()``, each in its own process forked from one that imported
    the CLI once (see the module's docstring)."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)
        self._folder = tempfile.TemporaryDirectory(prefix="ddq-cli-forks-")
        self.process = subprocess.Popen([sys.executable, "-c", _FORK_SERVER], env=self.env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True)

    def run(self, args: list[str], env: Mapping[str, str] | None = None, *,
            timeout_s: int = 180) -> CliRun:
        assert self.process.stdin is not None and self.process.stdout is not None
        out, err = Path(self._folder.name) / "out", Path(self._folder.name) / "err"
        request = {"args": args, "env": dict(env or self.env), "timeout": timeout_s,
                   "out": str(out), "err": str(err)}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        reply = json.loads(self.process.stdout.readline())
        return CliRun(reply["status"], out.read_text(errors="replace"),
                      err.read_text(errors="replace"), reply["wall"], reply["cpu"],
                      reply["maxrss_kb"] / 1024)

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)
        self._folder.cleanup()


def store_counts(home: Path) -> dict[str, int]:
    """What the data directory stores, read from its SQLite file."""
    with sqlite3.connect(f"file:{home / 'ddq.sqlite3'}?mode=ro", uri=True) as db:
        return {table: int(db.execute(f"select count(*) from {table}").fetchone()[0])
                for table in ("documents", "chunks", "questionnaires", "audit_log")}


def proc_status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


class ServeProcess:
    """A real ``ddq serve`` on a free loopback port, with an editor key."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = cli_env(home)
        created = run_cli(["keys", "create", "--name", "hostile", "--role", "admin", "--json"],
                          self.env, timeout_s=120)
        assert created.returncode == 0, created.output
        self.key = json.loads(created.stdout)["key"]
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log_path = home.parent / "serve.log"
        self._log = self._log_path.open("w+")  # open while the service runs
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ddq.cli", "serve", "--port", str(self.port)],
            env=self.env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{self.url}/livez", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"ddq serve did not start:\n{self.log()[-3000:]}")
            time.sleep(0.2)
        self.client = httpx.Client(base_url=self.url, timeout=120,
                                   headers={"Authorization": f"Bearer {self.key}"})

    def log(self) -> str:
        self._log.seek(0)
        return self._log.read()

    def alive(self) -> bool:
        if self.process.poll() is not None:
            return False
        try:
            return httpx.get(f"{self.url}/livez", timeout=10).status_code == 200
        except httpx.TransportError:
            return False

    def rss_mb(self) -> float:
        return proc_status_mb(self.process.pid, "VmRSS")

    def peak_mb(self) -> float:
        return proc_status_mb(self.process.pid, "VmHWM")

    def close(self) -> None:
        self.client.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
        self._log.close()
