"""Every route checks an API key: who is calling, for which workspace, with which role.

A key comes as ``Authorization: Bearer <key>`` (what OpenAI clients send) or ``X-API-Key``.
A missing, unknown or revoked key is 401; a role below the route's is 403. The workspace is
the key's: no request can name another one, so nothing crosses workspaces.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from ddq.errors import DDQError, ErrorCode
from ddq.kb import KnowledgeBase
from ddq.store.keys import ApiKeyInfo, KeyStore, Role

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


class FailedAuthThrottle:
    """Failed sign-ins per client address, in this process: a token bucket of
    ``per_minute`` failures, refilled at ``per_minute`` a minute. While an address's bucket is
    empty every attempt from it is refused (429, with the seconds to wait), a right key too,
    so guessing keys costs a minute per ``per_minute`` guesses. Successful sign-ins cost
    nothing. Behind a proxy the address is the proxy's unless uvicorn trusts its
    forwarded headers (``--forwarded-allow-ips``)."""

    MAX_ADDRESSES = 10_000

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def _tokens(self, address: str, now: float) -> float:
        tokens, last = self._buckets.get(address, (self.capacity, now))
        return min(self.capacity, tokens + (now - last) * self.rate)

    def retry_after(self, address: str) -> float | None:
        """Seconds until ``address`` may try again, or None when it may try now."""
        now = self._clock()
        with self._lock:
            tokens = self._tokens(address, now)
        return None if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def failed(self, address: str) -> None:
        now = self._clock()
        with self._lock:
            if len(self._buckets) >= self.MAX_ADDRESSES:
                # Forget the addresses whose buckets have refilled: they are owed nothing.
                self._buckets = {a: (t, last) for a, (t, last) in self._buckets.items()
                                 if self._tokens(a, now) < self.capacity}
            self._buckets[address] = (max(0.0, self._tokens(address, now) - 1.0), now)


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def refuse_if_throttled(request: Request) -> None:
    """429 (with Retry-After) while the caller's address has used up its failed sign-ins."""
    throttle: FailedAuthThrottle | None = getattr(request.app.state, "auth_throttle", None)
    if throttle is None:
        return
    wait = throttle.retry_after(client_address(request))
    if wait is not None:
        raise AuthThrottled(wait)


def note_failed_sign_in(request: Request) -> None:
    throttle: FailedAuthThrottle | None = getattr(request.app.state, "auth_throttle", None)
    if throttle is not None:
        throttle.failed(client_address(request))


class AuthThrottled(DDQError):
    def __init__(self, wait_s: float) -> None:
        super().__init__(ErrorCode.RATE_LIMITED, "too many failed sign-ins from this address; "
                                                 f"retry in {math.ceil(wait_s)} s")
        self.retry_after_s = max(1, math.ceil(wait_s))


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


#: Where a request's authenticated key is kept once looked up (by the request guard, before
#: the body is read, or by the first dependency that needs it): one lookup per request.
KEY_SCOPE = "ddq.key"


def key_of(request: Request) -> ApiKeyInfo | None:
    """The live key the request presents, or None (none, unknown or revoked). A failed
    lookup counts against the caller's address; a throttled address is refused (429)."""
    if KEY_SCOPE in request.scope:
        found: ApiKeyInfo | None = request.scope[KEY_SCOPE]
        return found
    secret = _secret(request)
    if secret is None:
        return None
    refuse_if_throttled(request)
    kb: KnowledgeBase = request.app.state.kb
    info = KeyStore(kb.store.engine).authenticate(secret)
    if info is None:
        note_failed_sign_in(request)
    request.scope[KEY_SCOPE] = info
    return info


def caller_from(request: Request) -> Caller | None:
    """The caller a request's key names, or None (no key, unknown or revoked)."""
    info = key_of(request)
    return None if info is None else Caller(info.id, info.name, info.workspace, info.role)


def require(role: Role) -> Callable[[Request], Caller]:
    """A dependency: the caller, when its key is live and its role is at least ``role``."""

    def dependency(request: Request) -> Caller:
        info = key_of(request)
        if info is None:
            raise unauthorized(request)
        limiter: RateLimiter | None = getattr(request.app.state, "limiter", None)
        if limiter is not None and not limiter.allow(info.id):
            raise DDQError(ErrorCode.RATE_LIMITED, "too many requests with this key; slow "
                                                   "down and retry in a moment")
        if info.role < role:
            raise DDQError(ErrorCode.FORBIDDEN, f"this needs the {role.label} role; the key "
                                                f"is {info.role.label}")
        return Caller(info.id, info.name, info.workspace, info.role)

    return dependency


def unauthorized(request: Request) -> DDQError:
    if _secret(request) is None:
        return DDQError(ErrorCode.UNAUTHORIZED, "an API key is required "
                                                "(Authorization: Bearer <key>)")
    return DDQError(ErrorCode.UNAUTHORIZED, "the API key is unknown or revoked")


def workspace_kb(request: Request, caller: Caller) -> KnowledgeBase:
    """The knowledge base as the caller's workspace sees it."""
    kb: KnowledgeBase = request.app.state.kb
    return kb.scoped(caller.workspace)
