"""The ShipStation request budget's maths (bot/shipstation/throttle.py): under 200 requests in any minute."""

from __future__ import annotations

import pytest

from bot.shipstation.throttle import BURST, LIMIT_PER_MINUTE, RATE_PER_S, Bucket, window_max


@pytest.mark.parametrize(
    ("bucket", "now", "tokens", "wait"),
    [
        (Bucket(tokens=10, at=0), 0, 10, 0),  # full: go now
        (Bucket(tokens=0.5, at=0), 0, 0.5, (1 - 0.5) / RATE_PER_S),  # half a token short
        (Bucket(tokens=0, at=0), 1, RATE_PER_S, 0),  # a second refills three
        (Bucket(tokens=0, at=0), 100, BURST, 0),  # never more than the burst
        (Bucket(tokens=-3, at=0), 0, -3, 4 / RATE_PER_S),  # a debt (after a 429) is paid off first
        (Bucket(tokens=0, at=5), 4, 0, 1 / RATE_PER_S),  # a clock read before `at` adds nothing
    ],
)
def test_tokens_and_wait(bucket, now, tokens, wait):
    assert bucket.tokens_at(now) == pytest.approx(tokens)
    assert bucket.wait_for(now) == pytest.approx(wait)


def test_taking_spends_one_token_at_the_time_taken():
    b = Bucket(tokens=2, at=0).take(0)
    assert (b.tokens, b.at) == (1, 0)
    assert b.take(1).tokens == pytest.approx(1 + RATE_PER_S - 1)


@pytest.mark.parametrize(("tokens", "seconds"), [(10, 7), (0, 30), (-2, 5), (3, 0)])
def test_a_pause_lets_nothing_go_before_retry_after(tokens, seconds):
    b = Bucket(tokens=tokens, at=0).pause(0, seconds)
    assert b.wait_for(0) >= seconds
    assert b.wait_for(0) <= seconds + (1 - min(0, tokens)) / RATE_PER_S


@pytest.mark.parametrize("seconds", [1, 10, 60, 3600])
def test_any_window_stays_under_shipstations_limit(seconds):
    allowed = LIMIT_PER_MINUTE * max(1, seconds / 60)
    assert window_max(rate=RATE_PER_S, burst=BURST, seconds=seconds) < allowed


def test_sending_as_fast_as_allowed_for_a_minute_stays_under_200():
    # Simulate: every request goes the moment wait_for says it may; count those inside the first 60 s.
    b, now, sent = Bucket(at=0), 0.0, 0
    while True:
        now += b.wait_for(now)
        if now >= 60:
            break
        b, sent = b.take(now), sent + 1
    assert sent >= BURST + RATE_PER_S * 59  # the budget is used, not starved
    assert sent < LIMIT_PER_MINUTE
