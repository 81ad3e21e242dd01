"""The one backoff rule shared by the prober's report retries and the Redis backend's reconnects."""

from __future__ import annotations

import random

import pytest

from gslb.common.backoff import Backoff


class FixedRandom(random.Random):
    """`uniform` always returns the same point of its range: 0 the low end, 1 the high end."""

    def __init__(self, point: float) -> None:
        super().__init__(0)
        self.point = point
        self.calls: list[tuple[float, float]] = []

    def uniform(self, a: float, b: float) -> float:
        self.calls.append((a, b))
        return a + (b - a) * self.point


def test_waits_double_up_to_the_cap() -> None:
    backoff = Backoff(0.5, 30.0, rng=FixedRandom(0.5))
    assert [backoff.next_delay() for _ in range(9)] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


def test_jitter_spreads_each_wait_by_the_given_share() -> None:
    rng = FixedRandom(0.0)
    backoff = Backoff(0.2, 5.0, rng=rng)
    assert backoff.next_delay() == pytest.approx(0.16)
    assert rng.calls == [(0.8, 1.2)]  # ±20 % by default
    high = Backoff(1.0, 1.0, jitter=0.1, rng=FixedRandom(1.0))
    assert high.next_delay() == pytest.approx(1.1)
    assert Backoff(1.0, 4.0, jitter=0.0).next_delay() == 1.0


def test_the_cap_applies_before_jitter() -> None:
    backoff = Backoff(1.0, 3.0, rng=FixedRandom(1.0))
    assert [round(backoff.next_delay(), 6) for _ in range(4)] == [1.2, 2.4, 3.6, 3.6]


def test_reset_starts_again_from_the_first_wait() -> None:
    backoff = Backoff(0.2, 5.0, rng=FixedRandom(0.5))
    for _ in range(5):
        backoff.next_delay()
    backoff.reset()
    assert [backoff.next_delay() for _ in range(2)] == [0.2, 0.4]


def test_real_jitter_stays_within_bounds() -> None:
    backoff = Backoff(1.0, 1.0, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(500)]
    assert all(0.8 <= d <= 1.2 for d in delays)
    assert max(delays) - min(delays) > 0.3  # actually spread, not a constant


@pytest.mark.parametrize(
    ("first", "cap", "jitter"), [(0.0, 1.0, 0.2), (2.0, 1.0, 0.2), (1.0, 2.0, 1.0), (1.0, 2.0, -0.1)]
)
def test_nonsense_settings_are_refused(first: float, cap: float, jitter: float) -> None:
    with pytest.raises(ValueError, match="backoff"):
        Backoff(first, cap, jitter=jitter)
