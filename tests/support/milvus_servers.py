"""Real Milvus servers for the tests: a ``milvus-lite server`` process (it has BM25), and a
REAL Milvus standalone (the PyPI package ``milvus``, 2.3.5, part of the dev extra; no BM25)
on free loopback ports with a temporary data folder.

The standalone starts in 10-60 s on two cores, so the tests share one per session. It
ignores SIGTERM for ~40 s, so it is stopped with SIGKILL on its own process group (it runs
the server and an embedded etcd as children).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

#: Every port milvus-server listens on, by its option name.
_PORT_OPTIONS = (
    "etcd-port",
    "root-coord-port",
    "proxy-port",
    "proxy-internal-port",
    "query-coord-port",
    "query-node-port",
    "index-coord-port",
    "index-node-port",
    "data-coord-port",
    "data-node-port",
)


class MilvusStandaloneError(RuntimeError):
    pass


def milvus_server_binary() -> Path | None:
    """``milvus-server`` of the running interpreter's environment, if the package is there."""
    beside = Path(sys.executable).with_name("milvus-server")
    if beside.is_file():
        return beside
    found = shutil.which("milvus-server")
    return Path(found) if found else None


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class MilvusStandalone:
    """One milvus-server process; :meth:`start` and :meth:`stop` may be called again (the
    outage test stops it and starts it on the same ports and data)."""

    data: Path
    ports: dict[str, int] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    log_file: Path | None = None

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.ports['proxy-port']}"

    def start(self, timeout_s: float = 180.0) -> None:
        binary = milvus_server_binary()
        if binary is None:
            raise MilvusStandaloneError(
                "milvus-server is not installed: it comes with the dev extra "
                "(`pip install -e '.[dev]'`, the PyPI package milvus==2.3.5)"
            )
        if not self.ports:
            self.ports = dict(zip(_PORT_OPTIONS, _free_ports(len(_PORT_OPTIONS)), strict=True))
        self.data.mkdir(parents=True, exist_ok=True)
        self.log_file = self.data / "milvus-server.log"
        command = [str(binary), "--data", str(self.data)]
        for option, port in self.ports.items():
            command += [f"--{option}", str(port)]
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise MilvusStandaloneError(
                    f"milvus-server exited with {self.process.returncode}: {self._log_tail()}"
                )
            if self._answers():
                return
            time.sleep(1.0)
        self.stop()
        raise MilvusStandaloneError(
            f"milvus-server did not answer in {timeout_s:.0f} s: {self._log_tail()}"
        )

    def _answers(self) -> bool:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", self.ports["proxy-port"])) != 0:
                return False
        from pymilvus import MilvusClient

        try:
            client = MilvusClient(uri=self.uri, timeout=5)
        except Exception:  # not ready yet: the proxy listens before the coordinators are up
            return False
        try:
            client.list_collections()
            return True
        except Exception:
            return False
        finally:
            with contextlib.suppress(Exception):
                client.close()

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        # The embedded etcd and the server must let go of their ports before a restart.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(self._listening(p) for p in self.ports.values()):
            time.sleep(0.2)

    @staticmethod
    def _listening(port: int) -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    def _log_tail(self) -> str:
        if self.log_file is None or not self.log_file.exists():
            return "(no log)"
        return self.log_file.read_text(errors="replace")[-800:].strip()


@contextlib.contextmanager
def run_milvus_standalone(data: Path) -> Iterator[MilvusStandalone]:
    server = MilvusStandalone(data)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def run_milvus_lite_server(data: Path) -> Iterator[str]:
    """A REAL ``milvus-lite server`` process on a free loopback port; yields its URI. Milvus
    Lite 3.x has the BM25 function, so this is the Milvus server for the keyword tests."""
    [port] = _free_ports(1)
    binary = Path(sys.executable).with_name("milvus-lite")
    process = subprocess.Popen(
        [
            str(binary),
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--data-dir",
            str(data),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not MilvusStandalone._listening(port):
            if process.poll() is not None:
                stderr = process.stderr.read() if process.stderr else b""
                raise MilvusStandaloneError(f"milvus-lite server exited: {stderr[-800:]!r}")
            if time.monotonic() > deadline:
                raise MilvusStandaloneError("milvus-lite server did not listen in 60 s")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class CuttableLink:
    """A TCP forwarder on a free loopback port to a real server, whose link can be cut and
    restored: the server becomes unreachable (connections reset, new ones closed at once)
    and reachable again, without restarting it. A Milvus standalone killed mid-run takes
    minutes to come back on two cores (its new node waits on the old one's sessions), so
    the outage test cuts the network instead."""

    def __init__(self, target_port: int) -> None:
        import threading

        self.target_port = target_port
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = int(self._listener.getsockname()[1])
        self._open = True
        self._closed = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        import threading

        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._open:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def cut(self) -> None:
        self._open = False
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def restore(self) -> None:
        self._open = True

    def close(self) -> None:
        self._closed = True
        self.cut()
        self._listener.close()
