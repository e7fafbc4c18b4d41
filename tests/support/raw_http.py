"""A raw HTTP/1.1 client for the request-guard tests: it streams a body from a generator
(so the test never holds it), stops sending as soon as the server answers, and says when the
answer came; plus readers of this process's memory and open temporary files.

httpx writes the whole body before it reads the answer, so it cannot show that a server
answered after the headers; this client reads and writes at once."""

from __future__ import annotations

import os
import select
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

MB = 1024 * 1024


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float  # from the first byte sent to the status line received
    body_bytes_sent: int


def zeros(total: int, chunk: int = MB) -> Iterator[bytes]:
    """``total`` bytes, one reused ``chunk`` at a time."""
    block = b" " * chunk
    sent = 0
    while sent < total:
        n = min(chunk, total - sent)
        yield block if n == chunk else block[:n]
        sent += n


def multipart_parts(boundary: str, name: str, total: int) -> Iterator[bytes]:
    """A multipart/form-data body of one file field ``files`` named ``name``, about
    ``total`` bytes of content."""
    yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
           f"filename=\"{name}\"\r\nContent-Type: text/markdown\r\n\r\n").encode()
    yield from zeros(total)
    yield f"\r\n--{boundary}--\r\n".encode()


def multipart_length(boundary: str, name: str, total: int) -> int:
    return sum(len(p) for p in multipart_parts(boundary, name, 0)) + total


def send(url: str, method: str, path: str, headers: dict[str, str], body: Iterator[bytes],
         *, chunked: bool = False, timeout: float = 30.0) -> Answer:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=timeout)
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    pending = ("\r\n".join(lines) + "\r\n\r\n").encode()
    started = time.monotonic()
    received = b""
    sent_body = 0
    body_done = False
    deadline = started + timeout
    try:
        while b"\r\n\r\n" not in received:
            if time.monotonic() > deadline:
                raise TimeoutError("no answer from the server")
            want_write = [sock] if (pending or not body_done) else []
            readable, writable, _ = select.select([sock], want_write, [], 0.5)
            if readable:
                data = sock.recv(65536)
                if not data:
                    break
                received += data
                continue
            if writable:
                if not pending:
                    piece = next(body, None)
                    if piece is None:
                        body_done = True
                        pending = b"0\r\n\r\n" if chunked else b""
                        if not pending:
                            continue
                    else:
                        sent_body += len(piece)
                        pending = (f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
                                   if chunked else piece)
                try:
                    n = sock.send(pending)
                except (BrokenPipeError, ConnectionResetError):
                    body_done, pending = True, b""
                    continue
                pending = pending[n:]
        seconds = time.monotonic() - started
        head, _, rest = received.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        parsed = {}
        for line in header_lines:
            key, _, value = line.partition(":")
            parsed[key.strip().lower()] = value.strip()
        length = int(parsed.get("content-length", "0"))
        sock.settimeout(5)
        while len(rest) < length:
            data = sock.recv(65536)
            if not data:
                break
            rest += data
        return Answer(int(status_line.split()[1]), parsed, rest[:length], seconds, sent_body)
    finally:
        sock.close()


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def bytes_under(folder: Path) -> int:
    """Bytes of the files under ``folder``, also those open but already unlinked there (a
    spooled temporary file is unlinked as soon as it is made)."""
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    prefix = str(folder.resolve())
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith(prefix) and target.endswith("(deleted)"):
                total += os.stat(f"/proc/self/fd/{fd}").st_size
        except OSError:
            continue
    return total


@dataclass
class Peaks:
    """The highest memory and temporary-folder use seen while it runs, sampled every 10 ms."""

    folders: list[Path]
    rss: int = 0
    disk: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Peaks:
        def sample() -> None:
            while not self._stop.is_set():
                self.rss = max(self.rss, rss_bytes())
                self.disk = max(self.disk, sum(bytes_under(f) for f in self.folders))
                self._stop.wait(0.01)

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()
