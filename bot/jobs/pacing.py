"""Per-channel pacing of chat.postMessage (pure: the caller passes the time in, in seconds).

Slack takes about one message a second per channel, with short bursts, and answers 429 + Retry-After
beyond that. Rather than let a burst of posts find the limit by trial and error, each post books a slot
first come first served, so a burst becomes a queue with known departure times and a job whose slot is
far off can go back to the jobs table until then. Jobs do not always come back on time (the worker may be
busy), so a second, identical schedule counts the posts actually sent: a post goes when its slot has come
and that schedule has room, so late posts never bunch up into a burst Slack would refuse. Both schedules
are a generic cell rate algorithm: the token bucket Slack runs, seen from the sender.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, field

FORGET_S = 300.0  # a booking this far in the past belongs to a job that never came back (another process ran it)
PRUNE_AT = 256  # idle channels (DMs mostly) are dropped once there are this many lanes


@dataclass
class Lane:
    """One channel: its booking schedule, the slots booked and not used yet, and its schedule of actual posts."""

    tat: float = -math.inf  # "theoretical arrival time" of the next booking; a burst may run ahead of it
    booked: dict[Hashable, float] = field(default_factory=dict)
    sent: float = -math.inf  # the same for posts actually sent (or about to be: admitted)


class Pacer:
    """`rate` posts a second per channel with bursts of `burst` (rate 0: no pacing, only Retry-After)."""

    def __init__(self, rate: float, burst: int = 1) -> None:
        if rate < 0 or burst < 1:
            raise ValueError("pacing needs rate >= 0 and burst >= 1")
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.tolerance = (burst - 1) * self.interval  # how far ahead of the schedule a burst may run
        self.lanes: dict[str, Lane] = {}

    def book(self, channel: str, key: Hashable, now: float, *, first: bool = False) -> float:
        """When `key` may post to `channel`; booked once, so asking again gives the same slot.

        `first` takes the earliest slot not yet due and moves the later bookings back by one interval
        (a flood summary goes before the backlog it sums up).
        """
        lane = self._lane(channel, now)
        if key in lane.booked:
            return lane.booked[key]
        due = max(now, lane.tat - self.tolerance)
        later = [k for k, s in lane.booked.items() if s > now]
        if first and later:
            due = min(due, min(lane.booked[k] for k in later))
            for k in later:
                if lane.booked[k] >= due:
                    lane.booked[k] += self.interval
            lane.tat += self.interval
        else:
            lane.tat = max(lane.tat, due) + self.interval
        lane.booked[key] = due
        return due

    def admit(self, channel: str, key: Hashable, now: float) -> float:
        """0.0 if `key` may post now (the post is counted as sent), else the seconds until it may ask again.

        A post goes once its slot has come and the posts actually sent leave room. One whose turn has come
        while the channel is busy (it or others came back late) takes the next free slot ahead of the queue,
        since it was booked before the queue behind it.
        """
        lane = self._lane(channel, now)
        slot = lane.booked[key] if key in lane.booked else self.book(channel, key, now)
        if slot > now:
            return slot - now
        room = lane.sent - self.tolerance  # when the posts actually sent allow the next one
        if room <= now:
            lane.sent = max(lane.sent, now) + self.interval
            return 0.0
        del lane.booked[key]
        return max(self.book(channel, key, now, first=True), room) - now

    def done(self, channel: str, key: Hashable) -> None:
        """`key` has posted (or given up): its booking is spent."""
        lane = self.lanes.get(channel)
        if lane is not None:
            lane.booked.pop(key, None)

    def pause(self, channel: str, now: float, retry_after: float) -> None:
        """Slack answered 429: nothing goes before now + retry_after, then the bookings in order, one interval apart.

        No burst right after a 429: Slack's bucket is empty, so the queue restarts at the bare rate.
        """
        lane = self._lane(channel, now)
        at = now + max(0.0, retry_after)
        lane.sent = max(lane.sent, at + self.tolerance)
        for key in sorted(lane.booked, key=lane.booked.__getitem__):
            at = max(at, lane.booked[key])  # never earlier than booked
            lane.booked[key] = at
            at += self.interval
        lane.tat = max(lane.tat, at + self.tolerance)

    def _lane(self, channel: str, now: float) -> Lane:
        if len(self.lanes) >= PRUNE_AT:
            # A lane with nothing booked whose schedules have caught up with the clock is a fresh lane.
            self.lanes = {c: lane for c, lane in self.lanes.items() if lane.booked or max(lane.tat, lane.sent) > now}
        lane = self.lanes.setdefault(channel, Lane())
        for key in [k for k, s in lane.booked.items() if s < now - FORGET_S]:
            del lane.booked[key]
        return lane
