"""A FAKE OpenAI-compatible server that misbehaves on purpose, for the failure tests.

It answers ``POST /v1/chat/completions`` and ``POST /v1/embeddings`` on a real socket, so the
official SDK, httpx and the call policy are exercised for real. ``mode`` is switched while
it runs:

- ``ok``: a valid draft citing the first evidence id in the prompt,
- ``slow``: ``ok`` after ``delay_s``,
- ``invalid-json`` / ``wrong-citation`` / ``uncited``: a broken draft,
- ``status:CODE``: that HTTP status with an error body (429, 500, 503, 400...),
- ``hang``: no answer for ``hang_s`` (a client timeout),
- ``close``: headers promising a body, half of it, then the connection closes.

It counts requests and the largest number it had in flight at once.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class MisbehavingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = "ok"
        self.delay_s = 0.2
        self.hang_s = 5.0
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        self.bodies: list[dict[str, Any]] = []

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def reset_counts(self) -> None:
        with self.lock:
            self.requests = 0
            self.max_in_flight = 0
            self.bodies.clear()


class _Handler(BaseHTTPRequestHandler):
    server: MisbehavingServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        s = self.server
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        with s.lock:
            s.requests += 1
            s.in_flight += 1
            s.max_in_flight = max(s.max_in_flight, s.in_flight)
            s.bodies.append(body)
            mode = s.mode
        try:
            self._answer(mode, body)
        finally:
            with s.lock:
                s.in_flight -= 1

    def _answer(self, mode: str, body: dict[str, Any]) -> None:
        s = self.server
        if mode.startswith("status:"):
            code = int(mode.split(":", 1)[1])
            self._json(code, {"error": {"message": f"fake failure {code}", "type": "fake"}})
            return
        if mode == "hang":
            time.sleep(s.hang_s)
            self._json(200, _completion("{}"))
            return
        if mode == "close":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "400")
            self.end_headers()
            self.wfile.write(b'{"id": "x", "choices": [')
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if mode == "slow":
            time.sleep(s.delay_s)
        if self.path.endswith("/embeddings"):
            texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
            data = [{"object": "embedding", "index": i,
                     "embedding": [float(len(t) % 7 + 1), 1.0, float(i % 3)]}
                    for i, t in enumerate(texts)]
            self._json(200, {"object": "list", "data": data, "model": body.get("model"),
                             "usage": {"prompt_tokens": 3, "total_tokens": 3}})
            return
        prompt = "\n".join(m["content"] for m in body["messages"])
        ids = re.findall(r'<evidence id="([A-Za-z0-9_\-]+)"', prompt)
        first = ids[0] if ids else "E1"
        if mode == "invalid-json":
            content = "Of course! Yes, everything is compliant."
        else:
            citations = {"wrong-citation": ["E42"], "uncited": []}.get(mode, [first])
            content = json.dumps({"answer": "Customer data is encrypted at rest.",
                                  "verdict": "yes", "citations": citations,
                                  "needs_input": False})
        self._json(200, _completion(content))

    def _json(self, code: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _completion(content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": "fake",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 50, "completion_tokens": 12, "total_tokens": 62},
    }


@contextmanager
def misbehaving_server() -> Iterator[MisbehavingServer]:
    server = MisbehavingServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
