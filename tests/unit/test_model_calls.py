"""The call policy every model gets: retries, the concurrency limit, the circuit breaker
and the measurements."""

from __future__ import annotations

import threading
import time

import pytest

from ddq.models.base import ChatMessage, GenerateRequest, Role
from ddq.models.calls import (
    BreakerState,
    CallGuard,
    CallPolicy,
    CircuitBreaker,
    CircuitOpenError,
    GuardedGenerator,
    ModelCallError,
    reset_model_stats,
    stats_for,
)
from ddq.models.fake import FakeGenerator

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def _fresh_stats() -> None:
    reset_model_stats()


class Flaky:
    """Fails the first ``failures`` attempts with the given error, then answers."""

    def __init__(self, failures: int, *, retryable: bool = True) -> None:
        self.failures = failures
        self.retryable = retryable
        self.attempts = 0

    def __call__(self, timeout_s: float) -> str:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise ModelCallError("test:flaky", "HTTP 503", retryable=self.retryable, status=503)
        return "answer"


def guard(**policy: float) -> tuple[CallGuard, list[float]]:
    waits: list[float] = []
    g = CallGuard("test:flaky", Role.GENERATOR, CallPolicy(**policy),  # type: ignore[arg-type]
                  sleep=waits.append)
    return g, waits


def test_retryable_errors_are_retried_with_growing_backoff() -> None:
    g, waits = guard(retries=3, backoff_s=1.0, max_backoff_s=10.0, breaker_failures=10)
    flaky = Flaky(failures=3)
    assert g.call(flaky) == "answer"
    assert flaky.attempts == 4
    # Full jitter between half and all of 1, 2, 4 seconds.
    assert [0.5 <= waits[0] <= 1.0, 1.0 <= waits[1] <= 2.0, 2.0 <= waits[2] <= 4.0] == [True] * 3
    stats = g.stats
    assert (stats.calls, stats.errors, stats.retries) == (4, 3, 3)


def test_retries_run_out_and_the_last_error_is_raised() -> None:
    g, waits = guard(retries=2, backoff_s=0.01, breaker_failures=10)
    flaky = Flaky(failures=10)
    with pytest.raises(ModelCallError) as caught:
        g.call(flaky)
    assert flaky.attempts == 3
    assert caught.value.retryable
    assert len(waits) == 2


def test_a_final_error_is_not_retried() -> None:
    g, waits = guard(retries=5, breaker_failures=10)
    flaky = Flaky(failures=1, retryable=False)  # e.g. HTTP 400 or 401
    with pytest.raises(ModelCallError):
        g.call(flaky)
    assert flaky.attempts == 1
    assert waits == []


def test_a_local_exception_is_counted_but_not_retried_and_does_not_trip_the_breaker() -> None:
    g, _ = guard(retries=5, breaker_failures=1)

    def broken(timeout_s: float) -> str:
        raise ValueError("bad input")

    with pytest.raises(ValueError):
        g.call(broken)
    assert g.stats.errors == 1
    assert g.breaker.state is BreakerState.CLOSED


def test_breaker_opens_after_consecutive_failures_then_half_opens_and_closes() -> None:
    now = [0.0]
    breaker = CircuitBreaker(failures=3, reset_s=30.0, clock=lambda: now[0])
    for _ in range(2):
        assert breaker.before_call() is None
        breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert breaker.before_call() == pytest.approx(30.0)
    now[0] = 29.0
    assert breaker.before_call() == pytest.approx(1.0)
    now[0] = 30.0
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.before_call() is None  # one trial call goes through...
    assert breaker.before_call() is not None  # ...and only one
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.before_call() is None


def test_a_failed_trial_reopens_the_breaker_at_once() -> None:
    now = [0.0]
    breaker = CircuitBreaker(failures=2, reset_s=10.0, clock=lambda: now[0])
    breaker.record_failure()
    breaker.record_failure()
    now[0] = 10.0
    assert breaker.before_call() is None
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert breaker.opened_count == 2


def test_an_open_breaker_refuses_calls_without_reaching_the_model() -> None:
    g, _ = guard(retries=0, breaker_failures=2, breaker_reset_s=60.0)
    flaky = Flaky(failures=100)
    for _ in range(2):
        with pytest.raises(ModelCallError):
            g.call(flaky)
    with pytest.raises(CircuitOpenError) as caught:
        g.call(flaky)
    assert flaky.attempts == 2
    assert "circuit open" in caught.value.detail
    assert g.stats.rejected_open == 1
    assert g.stats.breaker is BreakerState.OPEN


def test_concurrency_limit_holds_under_many_threads() -> None:
    g, _ = guard(concurrency=3)
    inside = [0]
    peak = [0]
    lock = threading.Lock()

    def slow(timeout_s: float) -> str:
        with lock:
            inside[0] += 1
            peak[0] = max(peak[0], inside[0])
        time.sleep(0.02)
        with lock:
            inside[0] -= 1
        return "ok"

    threads = [threading.Thread(target=g.call, args=(slow,)) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 3
    assert g.stats.max_in_flight == 3
    assert g.stats.calls == 12


def test_guarded_generator_counts_tokens_and_latency_per_model() -> None:
    generator = GuardedGenerator(FakeGenerator("grounded"), CallPolicy())
    request = GenerateRequest(messages=[ChatMessage(role="user", content="one two three")])
    generator.generate(request)
    generator.generate(request)
    stats = stats_for("fake:grounded", Role.GENERATOR)
    assert stats.calls == 2
    assert stats.prompt_tokens == 6
    assert stats.completion_tokens > 0
    assert stats.percentile(0.5) is not None
    assert stats.as_dict()["breaker"] == "closed"
