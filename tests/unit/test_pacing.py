"""Per-channel pacing maths (bot/jobs/pacing.py): bookings, the schedule of posts sent, 429s, priority."""

from math import inf

import pytest

from bot.jobs.pacing import FORGET_S, Lane, Pacer

C = "C0APPROVALS"


def book_all(pacer: Pacer, keys, now: float, channel: str = C) -> list[float]:
    return [pacer.book(channel, k, now) for k in keys]


@pytest.mark.parametrize("rate,burst,n,slots", [
    (1.0, 1, 4, [0.0, 1.0, 2.0, 3.0]),  # one a second
    (1.0, 3, 5, [0.0, 0.0, 0.0, 1.0, 2.0]),  # a burst of three, then one a second
    (10.0, 5, 7, [0.0] * 5 + [0.1, 0.2]),  # the benchmark's scaled limit
    (0.0, 1, 3, [0.0, 0.0, 0.0]),  # pacing off: everyone now
])
def test_bookings_follow_rate_and_burst(rate, burst, n, slots):
    assert book_all(Pacer(rate, burst), range(n), 0.0) == pytest.approx(slots)


def test_a_booking_is_kept_and_channels_are_independent():
    pacer = Pacer(1.0, 1)
    assert book_all(pacer, "ab", 0.0) == [0.0, 1.0]
    assert pacer.book(C, "b", 0.5) == 1.0  # asking again (the job came back) gives the same slot
    assert pacer.book("D0DM", "c", 0.5) == 0.5  # another channel is not held up
    pacer.done(C, "a")
    pacer.done(C, "b")
    assert pacer.book(C, "d", 1.2) == 2.0  # spent slots still count: Slack's bucket remembers them


def test_the_schedule_refills_with_time():
    pacer = Pacer(1.0, 2)
    assert book_all(pacer, "ab", 0.0) == [0.0, 0.0]
    assert pacer.book(C, "c", 10.0) == 10.0 and pacer.book(C, "d", 10.0) == 10.0  # a full burst again
    assert pacer.book(C, "e", 10.0) == 11.0


def test_first_takes_the_next_slot_and_moves_the_queue_back():
    pacer = Pacer(1.0, 1)
    assert book_all(pacer, "abc", 0.0) == [0.0, 1.0, 2.0]
    assert pacer.book(C, "summary", 0.0, first=True) == 1.0  # before b and c, after a (due now)
    assert [pacer.book(C, k, 0.0) for k in "abc"] == [0.0, 2.0, 3.0]
    assert pacer.book(C, "d", 0.0) == 4.0
    assert Pacer(1.0, 1).book(C, "alone", 5.0, first=True) == 5.0  # nothing queued: simply now


@pytest.mark.parametrize("now,slot,sent,tat,wait,counted", [
    (0.0, 0.0, -inf, 1.0, 0.0, True),  # its turn, nothing sent: go
    (0.0, 0.4, -inf, 1.0, 0.4, False),  # its turn comes in 0.4 s: ask again then
    (5.0, 1.0, 5.9, 6.0, 1.0, False),  # late, and a post went 0.1 s ago: the next slot, ahead of the queue
    (5.0, 1.0, 5.0, 6.0, 0.0, True),  # late, and the channel has room: go
])
def test_admit_waits_for_the_slot_and_for_room_after_posts_actually_sent(now, slot, sent, tat, wait, counted):
    pacer = Pacer(1.0, 1)
    pacer.lanes[C] = Lane(tat=tat, booked={"job": slot}, sent=sent)
    assert pacer.admit(C, "job", now) == pytest.approx(wait)
    assert pacer.lanes[C].sent == (pytest.approx(now + 1.0) if counted else sent)


def run(pacer: Pacer, arrivals: dict[str, float]) -> dict[str, float]:
    """When each key posts if it asks at its arrival time and sleeps as told (the worker, without I/O)."""
    asks = sorted((t, k) for k, t in arrivals.items())
    sent: dict[str, float] = {}
    while asks:
        asks.sort()
        t, key = asks.pop(0)
        wait = pacer.admit(C, key, t)
        if wait == 0:
            sent[key] = t
            pacer.done(C, key)
        else:
            asks.append((t + wait, key))
    return sent


def test_late_posts_never_bunch_into_a_burst():
    pacer = Pacer(1.0, 2)
    book_all(pacer, "abcdef", 0.0)  # slots 0, 0, 1, 2, 3, 4
    sent = run(pacer, dict.fromkeys("abcdef", 10.0))  # the worker was busy: all six come back at t=10
    assert sorted(sent.values()) == pytest.approx([10.0, 10.0, 11.0, 12.0, 13.0, 14.0])  # two at once, then 1/s


def test_on_time_posts_go_at_their_slots_and_a_priority_post_jumps_the_queue():
    pacer = Pacer(2.0, 1)
    slots = dict(zip("abcd", book_all(pacer, "abcd", 0.0)))
    assert pacer.book(C, "summary", 0.1, first=True) == 0.5  # b's slot; b, c, d move back half a second
    sent = run(pacer, {**slots, "summary": 0.1})  # b, c, d come back at their old slots: too early
    assert sent == pytest.approx({"a": 0.0, "summary": 0.5, "b": 1.0, "c": 1.5, "d": 2.0})


def test_a_429_moves_every_booking_behind_retry_after_without_a_burst():
    pacer = Pacer(1.0, 3)
    assert book_all(pacer, "abcd", 0.0) == [0.0, 0.0, 0.0, 1.0]
    pacer.done(C, "a")
    pacer.pause(C, 0.2, 2.0)  # b got a 429 with Retry-After: 2
    assert [pacer.book(C, k, 0.2) for k in "bcd"] == pytest.approx([2.2, 3.2, 4.2])
    assert pacer.book(C, "e", 0.2) == pytest.approx(5.2)
    assert pacer.admit(C, "b", 1.0) == pytest.approx(1.2)  # not before Retry-After
    assert pacer.admit(C, "b", 2.2) == 0.0


def test_a_pause_never_brings_a_booking_forward():
    pacer = Pacer(1.0, 1)
    pacer.lanes[C] = Lane(tat=10.0, booked={"a": 0.0, "b": 9.0})
    pacer.pause(C, 0.0, 1.0)
    assert pacer.lanes[C].booked == {"a": 1.0, "b": 9.0}


def test_forgotten_bookings_and_idle_channels_are_dropped():
    pacer = Pacer(1.0, 1)
    pacer.book(C, "ghost", 0.0)  # its job ran in another process and never came back here
    pacer.book(C, "new", FORGET_S + 10.0)
    assert set(pacer.lanes[C].booked) == {"new"}
    for i in range(300):
        pacer.book(f"D{i}", "dm", 0.0)
        pacer.done(f"D{i}", "dm")
    pacer.book("D-last", "dm", 10.0)
    assert len(pacer.lanes) < 256


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        Pacer(-1.0, 1)
    with pytest.raises(ValueError):
        Pacer(1.0, 0)
