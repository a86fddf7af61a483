"""When a hold waits for fulfillment orders, when it looks again, and when it gives up (pure, time passed in)."""

from datetime import UTC, datetime, timedelta

import pytest

from bot.approvals.holds import GaveUp, Waiting, waiting_for

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DAY = 86400.0
OPEN = {"id": "gid://shopify/FulfillmentOrder/1", "status": "OPEN"}


def scheduled(at: datetime | None) -> dict:
    return {"id": "gid://shopify/FulfillmentOrder/2", "status": "SCHEDULED",
            "fulfillAt": at.isoformat().replace("+00:00", "Z") if at else None}


@pytest.mark.parametrize(("fos", "elapsed", "look_in", "why"), [
    ([], 0, 5, "not made this order's fulfillment orders yet"),
    ([], 60, 30, "not made"),  # looks further apart as the wait goes on
    ([], 3600, 300, "not made"),  # ... five minutes at most
    ([scheduled(T0 + timedelta(hours=2))], 0, 2 * 3600 + 30, "scheduled for 2026-12-01 14:00 UTC"),
    ([OPEN, scheduled(T0 + timedelta(days=20))], 0, 6 * 3600, "scheduled for 2026-12-21"),  # a few looks a day
    ([scheduled(T0 - timedelta(minutes=1))], 0, 5, "due but not open yet"),
    ([scheduled(None)], 0, 5, "due but not open yet"),
])
def test_it_waits_and_says_why(fos, elapsed, look_in, why):
    now = T0 + timedelta(seconds=elapsed)
    result = waiting_for(fos, job_created=T0, now=now, wait_s=DAY)
    assert isinstance(result, Waiting) and why in result.why
    assert result.at == now + timedelta(seconds=look_in)


@pytest.mark.parametrize("fos", [[OPEN], [OPEN, {"id": "x", "status": "ON_HOLD"}], [{"id": "x", "status": "CLOSED"}]])
def test_nothing_to_wait_for_once_every_fulfillment_order_exists_and_none_is_scheduled(fos):
    assert waiting_for(fos, job_created=T0, now=T0, wait_s=DAY) is None


def test_it_never_looks_past_its_bound_and_gives_up_there():
    near = waiting_for([], job_created=T0, now=T0 + timedelta(seconds=DAY - 5), wait_s=DAY)
    assert isinstance(near, Waiting) and near.at == T0 + timedelta(seconds=DAY)
    gone = waiting_for([], job_created=T0, now=T0 + timedelta(seconds=DAY), wait_s=DAY)
    assert isinstance(gone, GaveUp) and "within 24 hours" in gone.why


def test_a_scheduled_fulfillment_order_is_waited_for_until_its_time_and_then_the_bound():
    due = T0 + timedelta(days=3)
    assert isinstance(waiting_for([scheduled(due)], job_created=T0, now=due + timedelta(hours=23), wait_s=DAY),
                      Waiting)
    late = waiting_for([scheduled(due)], job_created=T0, now=due + timedelta(days=1), wait_s=DAY)
    assert isinstance(late, GaveUp) and "did not open by 2026-12-05 12:00 UTC" in late.why
