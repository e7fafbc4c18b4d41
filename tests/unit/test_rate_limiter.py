"""The per-key rate limiter: a token bucket per key."""

from __future__ import annotations

import pytest

from ddq.api.auth import RateLimiter

pytestmark = pytest.mark.unit


def test_bursts_up_to_capacity_then_refills_at_the_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(600, clock=lambda: now[0])  # 10/s, bursts of 60
    assert all(limiter.allow(1) for _ in range(60))
    assert not limiter.allow(1)
    assert limiter.allow(2)  # another key has its own bucket
    now[0] = 0.1  # one token back
    assert limiter.allow(1)
    assert not limiter.allow(1)
    now[0] = 100.0  # never more than the capacity
    assert sum(limiter.allow(1) for _ in range(100)) == 60


def test_small_limits_still_allow_a_burst_of_ten() -> None:
    limiter = RateLimiter(6, clock=lambda: 0.0)
    assert sum(limiter.allow(7) for _ in range(20)) == 10
