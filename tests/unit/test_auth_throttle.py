"""Failed sign-ins per client address: a token bucket of failures, with the wait to tell."""

from __future__ import annotations

import pytest

from ddq.api.auth import FailedAuthThrottle

pytestmark = pytest.mark.unit


def test_failures_use_up_the_bucket_and_it_refills_at_the_rate() -> None:
    now = [0.0]
    throttle = FailedAuthThrottle(6, clock=lambda: now[0])  # 6 failures, one back per 10 s
    for _ in range(6):
        assert throttle.retry_after("10.0.0.1") is None
        throttle.failed("10.0.0.1")
    wait = throttle.retry_after("10.0.0.1")
    assert wait == pytest.approx(10.0)
    assert throttle.retry_after("10.0.0.2") is None  # another address has its own bucket
    now[0] = 5.0
    assert throttle.retry_after("10.0.0.1") == pytest.approx(5.0)
    now[0] = 10.0
    assert throttle.retry_after("10.0.0.1") is None  # one more try
    throttle.failed("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == pytest.approx(10.0)


def test_the_table_of_addresses_stays_bounded() -> None:
    now = [0.0]
    throttle = FailedAuthThrottle(60, clock=lambda: now[0])
    throttle.MAX_ADDRESSES = 100
    for i in range(100):
        throttle.failed(f"10.0.{i // 256}.{i % 256}")
    now[0] = 120.0  # every bucket has refilled
    throttle.failed("10.9.9.9")
    assert len(throttle._buckets) == 1
