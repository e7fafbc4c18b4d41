"""Every route checks an API key: who is calling, for which workspace, with which role.

A key comes as ``Authorization: Bearer <key>`` (what OpenAI clients send) or ``X-API-Key``.
A missing, unknown or revoked key is 401; a role below the route's is 403. The workspace is
the key's: no request can name another one, so nothing crosses workspaces.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from ddq.errors import DDQError, ErrorCode
from ddq.kb import KnowledgeBase
from ddq.store.keys import KeyStore, Role

COOKIE = "ddq_key"


class RateLimiter:
    """A token bucket per key, in this process: ``per_minute`` requests a minute on average,
    bursts up to a tenth of that (at least 10)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(10.0, per_minute / 10.0)
        self._clock = clock
        self._buckets: dict[int, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key_id: int) -> bool:
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key_id, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key_id] = (tokens, now)
                return False
            self._buckets[key_id] = (tokens - 1.0, now)
            return True


@dataclass(frozen=True, slots=True)
class Caller:
    key_id: int
    key_name: str
    workspace: str
    role: Role

    @property
    def actor(self) -> str:
        return f"key:{self.key_id}:{self.key_name}"[:128]


def _secret(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    # The web UI signs in once and keeps the key in an HttpOnly, SameSite=Strict cookie.
    return request.headers.get("x-api-key") or request.cookies.get(COOKIE) or None


def caller_from(request: Request) -> Caller | None:
    """The caller a request's key names, or None (no key, unknown or revoked)."""
    secret = _secret(request)
    if secret is None:
        return None
    kb: KnowledgeBase = request.app.state.kb
    info = KeyStore(kb.store.engine).authenticate(secret)
    return None if info is None else Caller(info.id, info.name, info.workspace, info.role)


def require(role: Role) -> Callable[[Request], Caller]:
    """A dependency: the caller, when its key is live and its role is at least ``role``."""

    def dependency(request: Request) -> Caller:
        secret = _secret(request)
        if secret is None:
            raise DDQError(ErrorCode.UNAUTHORIZED, "an API key is required "
                                                   "(Authorization: Bearer <key>)")
        kb: KnowledgeBase = request.app.state.kb
        info = KeyStore(kb.store.engine).authenticate(secret)
        if info is None:
            raise DDQError(ErrorCode.UNAUTHORIZED, "the API key is unknown or revoked")
        limiter: RateLimiter | None = getattr(request.app.state, "limiter", None)
        if limiter is not None and not limiter.allow(info.id):
            raise DDQError(ErrorCode.RATE_LIMITED, "too many requests with this key; slow "
                                                   "down and retry in a moment")
        if info.role < role:
            raise DDQError(ErrorCode.FORBIDDEN, f"this needs the {role.label} role; the key "
                                                f"is {info.role.label}")
        return Caller(info.id, info.name, info.workspace, info.role)

    return dependency


def workspace_kb(request: Request, caller: Caller) -> KnowledgeBase:
    """The knowledge base as the caller's workspace sees it."""
    kb: KnowledgeBase = request.app.state.kb
    return kb.scoped(caller.workspace)
