"""What every model call gets, in one place.

- a timeout per attempt,
- retries with exponential backoff and jitter, on retryable errors only (timeouts,
  connection failures, HTTP 408/409/429/5xx); a bad request is not retried,
- a concurrency limit per model (a semaphore shared by every caller in the process),
- a circuit breaker per model: after ``breaker_failures`` consecutive failed calls it opens
  and calls fail at once (drafting falls back to the extractive drafter); after
  ``breaker_reset_s`` one trial call is let through, and a success closes it again,
- measurements per model and role (calls, errors, latency, tokens, cache hits), read by
  :func:`model_stats` for ``ddq models`` and the service's metrics.

Providers only translate one attempt into the model's API and raise
:class:`ModelCallError`; :class:`GuardedGenerator`, :class:`GuardedEmbedder` and
:class:`GuardedReranker` add all of the above around them.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from ddq import metrics, tracing
from ddq.errors import DDQError, ErrorCode
from ddq.models.base import (
    Embedder,
    GenerateRequest,
    GenerateResponse,
    Generator,
    ModelInfo,
    Reranker,
    RerankRequest,
    RerankResponse,
    Role,
    Usage,
    Vectors,
)

T = TypeVar("T")

#: HTTP statuses worth another attempt: the server may answer the same request next time.
RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class ModelCallError(DDQError):
    """One failed model call. ``retryable`` says whether the same request may succeed later."""

    def __init__(self, model_id: str, detail: str, *, retryable: bool,
                 status: int | None = None) -> None:
        super().__init__(ErrorCode.MODEL_UNAVAILABLE, f"{model_id}: {detail}")
        self.model_id = model_id
        self.retryable = retryable
        self.status = status


class CircuitOpenError(ModelCallError):
    """The model failed repeatedly; calls are refused until the breaker's cool-down ends."""

    def __init__(self, model_id: str, retry_in_s: float) -> None:
        super().__init__(model_id, f"circuit open after repeated failures; next trial in "
                                   f"{retry_in_s:.0f} s", retryable=False)


@dataclass(frozen=True, slots=True)
class CallPolicy:
    timeout_s: float = 60.0
    retries: int = 2
    backoff_s: float = 0.5
    max_backoff_s: float = 8.0
    concurrency: int = 4
    breaker_failures: int = 5
    breaker_reset_s: float = 30.0

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before retry ``attempt`` (1-based): exponential, full jitter."""
        ceiling = min(self.max_backoff_s, self.backoff_s * (2 ** (attempt - 1)))
        return random.uniform(ceiling / 2, ceiling)


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Consecutive-failure breaker: closed → open → (after the cool-down) half-open → closed."""

    def __init__(self, failures: int, reset_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.failures_to_open = max(1, failures)
        self.reset_s = reset_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False
        self.opened_count = 0

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._state()

    def _state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self.reset_s:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def before_call(self) -> float | None:
        """None when the call may go ahead; otherwise seconds until the next trial."""
        with self._lock:
            state = self._state()
            if state is BreakerState.CLOSED:
                return None
            if state is BreakerState.HALF_OPEN and not self._trial_running:
                self._trial_running = True  # one trial at a time
                return None
            assert self._opened_at is not None
            return max(0.0, self.reset_s - (self._clock() - self._opened_at))

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._trial_running = False

    def release_trial(self) -> None:
        """A call ended without telling whether the model works: let the next one try."""
        with self._lock:
            self._trial_running = False

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            reopen = self._trial_running
            self._trial_running = False
            if reopen or (self._opened_at is None and self._failures >= self.failures_to_open):
                self._opened_at = self._clock()
                self.opened_count += 1


@dataclass
class ModelStats:
    """Counters of one model in one role, since the process started."""

    model_id: str
    role: Role
    calls: int = 0
    errors: int = 0
    retries: int = 0
    rejected_open: int = 0
    latency_s_total: float = 0.0
    latencies_s: list[float] = field(default_factory=list)  # the last 1,000 calls
    prompt_tokens: int = 0
    completion_tokens: int = 0
    items: int = 0  # texts embedded or documents reranked
    cache_hits: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    breaker: BreakerState = BreakerState.CLOSED

    def percentile(self, q: float) -> float | None:
        if not self.latencies_s:
            return None
        ordered = sorted(self.latencies_s)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def as_dict(self) -> dict[str, object]:
        return {
            "model_id": self.model_id, "role": self.role.value, "calls": self.calls,
            "errors": self.errors, "retries": self.retries,
            "rejected_open": self.rejected_open,
            "latency_s_total": round(self.latency_s_total, 6),
            "latency_p50_s": self.percentile(0.5), "latency_p95_s": self.percentile(0.95),
            "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
            "items": self.items, "cache_hits": self.cache_hits,
            "max_in_flight": self.max_in_flight, "breaker": self.breaker.value,
        }


_STATS: dict[tuple[str, Role], ModelStats] = {}
_STATS_LOCK = threading.Lock()


def stats_for(model_id: str, role: Role) -> ModelStats:
    with _STATS_LOCK:
        key = (model_id, role)
        if key not in _STATS:
            _STATS[key] = ModelStats(model_id, role)
        return _STATS[key]


def model_stats() -> list[ModelStats]:
    """Every model's measurements in this process (for ``ddq models`` and ``/metrics``)."""
    with _STATS_LOCK:
        return list(_STATS.values())


def reset_model_stats() -> None:
    with _STATS_LOCK:
        _STATS.clear()


class CallGuard:
    """Runs one model's calls under its policy: limit, breaker, timeout, retries, stats."""

    def __init__(self, model_id: str, role: Role, policy: CallPolicy,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.model_id = model_id
        self.policy = policy
        self.stats = stats_for(model_id, role)
        self.breaker = CircuitBreaker(policy.breaker_failures, policy.breaker_reset_s)
        self._slots = threading.BoundedSemaphore(max(1, policy.concurrency))
        self._lock = threading.Lock()
        self._sleep = sleep

    @contextlib.contextmanager
    def _slot(self) -> Iterator[None]:
        with self._slots:
            with self._lock:
                self.stats.in_flight += 1
                self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)
            try:
                yield
            finally:
                with self._lock:
                    self.stats.in_flight -= 1

    def call(self, attempt: Callable[[float], T], usage: Callable[[T], Usage] | None = None,
             items: int = 0) -> T:
        """Run ``attempt(timeout_s)`` until it succeeds, fails for good, or retries run out."""
        policy = self.policy
        tries = 0
        while True:
            wait = self.breaker.before_call()
            if wait is not None:
                with self._lock:
                    self.stats.rejected_open += 1
                    self.stats.breaker = self.breaker.state
                raise CircuitOpenError(self.model_id, wait)
            tries += 1
            started = time.perf_counter()
            with tracing.span("model.call", {"ddq.model": self.model_id,
                                             "ddq.role": self.stats.role.value,
                                             "ddq.attempt": tries,
                                             "ddq.items": items}) as current:
                try:
                    with self._slot():
                        result = attempt(policy.timeout_s)
                except ModelCallError as exc:
                    tracing.record_error(current, exc)
                    self.breaker.record_failure()
                    self._record(time.perf_counter() - started, error=True)
                    if not exc.retryable or tries > policy.retries:
                        raise
                    with self._lock:
                        self.stats.retries += 1
                    retry = True
                except Exception as exc:
                    # Not a failure of the model's service (a bad input, a local error):
                    # counted, never retried, and it does not trip the breaker.
                    tracing.record_error(current, exc)
                    self.breaker.release_trial()
                    self._record(time.perf_counter() - started, error=True)
                    raise
                else:
                    retry = False
                    self.breaker.record_success()
                    used = usage(result) if usage is not None else Usage()
                    tracing.set_attributes(current, {
                        "gen_ai.usage.input_tokens": used.prompt_tokens,
                        "gen_ai.usage.output_tokens": used.completion_tokens})
                    self._record(time.perf_counter() - started, error=False, usage=used,
                                 items=items)
            if retry:
                self._sleep(policy.backoff(tries))
                continue
            return result

    def _record(self, seconds: float, *, error: bool, usage: Usage | None = None,
                items: int = 0) -> None:
        if metrics.ENABLED:
            metrics.MODEL_CALL_DURATION.labels(self.model_id, self.stats.role.value).observe(
                seconds)
        with self._lock:
            s = self.stats
            s.calls += 1
            s.errors += int(error)
            s.latency_s_total += seconds
            s.latencies_s.append(seconds)
            if len(s.latencies_s) > 1000:
                del s.latencies_s[: len(s.latencies_s) - 1000]
            if usage is not None:
                s.prompt_tokens += usage.prompt_tokens
                s.completion_tokens += usage.completion_tokens
            s.items += items
            s.breaker = self.breaker.state


class GuardedGenerator(Generator):
    """A generator with the call policy around it; what the rest of DDQ talks to."""

    def __init__(self, inner: Generator, policy: CallPolicy) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.capabilities = inner.capabilities
        self.guard = CallGuard(inner.model_id, Role.GENERATOR, policy)

    def generate(self, request: GenerateRequest, *, timeout_s: float | None = None
                 ) -> GenerateResponse:
        def attempt(policy_timeout: float) -> GenerateResponse:
            return self.inner.generate(request, timeout_s=timeout_s or policy_timeout)

        return self.guard.call(attempt, usage=lambda r: r.usage)

    def info(self) -> ModelInfo:
        return self.inner.info()


class GuardedReranker(Reranker):
    def __init__(self, inner: Reranker, policy: CallPolicy) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.guard = CallGuard(inner.model_id, Role.RERANKER, policy)

    def rerank(self, request: RerankRequest, *, timeout_s: float | None = None
               ) -> RerankResponse:
        def attempt(policy_timeout: float) -> RerankResponse:
            return self.inner.rerank(request, timeout_s=timeout_s or policy_timeout)

        return self.guard.call(attempt, usage=lambda r: r.usage, items=len(request.documents))

    def info(self) -> ModelInfo:
        return self.inner.info()


class GuardedEmbedder(Embedder):
    """An embedder with the call policy around each batch. Local embedders get the
    measurements and the limit; retries only matter for remote ones, which raise
    retryable :class:`ModelCallError`."""

    def __init__(self, inner: Embedder, policy: CallPolicy) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.max_batch_size = inner.max_batch_size
        self.guard = CallGuard(inner.model_id, Role.EMBEDDER, policy)

    @property
    def dimension(self) -> int:  # type: ignore[override]
        return self.inner.dimension

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        def attempt(_timeout: float) -> Vectors:
            return self.inner.embed_batch(texts)

        def usage(_vectors: Vectors) -> Usage:
            return Usage(prompt_tokens=sum(self.inner.count_tokens(texts)))

        return self.guard.call(attempt, usage=usage, items=len(texts))

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.inner.count_tokens(texts)

    def info(self) -> ModelInfo:
        return self.inner.info()

    def __getattr__(self, name: str) -> object:
        # Provider extras (``loaded``, ``calls`` of the fakes) stay reachable.
        return getattr(self.inner, name)
