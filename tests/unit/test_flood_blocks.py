"""The flood summary's Block Kit (bot/blocks/flood.py): pure, and accepted by the sandbox's Block Kit checker."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.blocks.flood import MAX_POLICIES, QUEUE, FloodView, build, eta, text_fallback
from bot.blocks.ids import ActionId
from bot.blocks.queue import PageRef
from sandbox.slack.blockkit import check_message

NOW = datetime(2026, 3, 2, 14, 7, 30, tzinfo=UTC)


def view(**over) -> FloodView:
    base = dict(waiting=287, unposted=42, by_policy=(("Staff order", 200), ("Influencer <sample>", 87)),
                oldest=("#1001", NOW - timedelta(minutes=3)), started_at=NOW - timedelta(minutes=4), decided=12,
                posts_per_s=1.0)
    return FloodView(**{**base, **over})


def text_of(blocks) -> str:
    return json.dumps(blocks, ensure_ascii=False)


@pytest.mark.parametrize("over,says,not_says", [
    ({}, ["287 orders waiting for approval", "42 of them are not posted here yet", "the last in about 42s",
          "Staff order: 200", "Influencer &lt;sample&gt;: 87", "*#1001*, 3m", "12 decided since 14:03 UTC",
          "updated 14:07:30 UTC", "Open the queue"], ["Backlog posted"]),
    ({"unposted": 0}, ["Backlog posted at 14:07 UTC", "Every request of this burst is posted", "287 orders were waiting",
                       "Open the queue"], ["not posted here yet"]),
    ({"unposted": 0, "waiting": 0, "by_policy": (), "oldest": None, "decided": 300},
     ["None was waiting for approval then", "300 decided since"], ["Open the queue", "By policy", "Oldest"]),
    ({"waiting": 1, "unposted": 1, "by_policy": (("Staff order", 1),)}, ["1 order waiting for approval", "the last in about 1s"],
     ["1 orders"]),
    ({"posts_per_s": 0.0}, ["follow oldest first."], ["the last in about"]),
])
def test_summary_says_what_waits_and_where_to_decide(over, says, not_says):
    blocks = build(view(**over), NOW)
    assert check_message(blocks) == []
    text = text_of(blocks)
    for s in says:
        assert s in text, s
    for s in not_says:
        assert s not in text, s


def test_queue_button_asks_for_the_first_page_of_the_queue():
    actions = [b for b in build(view(), NOW) if b["type"] == "actions"]
    [button] = actions[0]["elements"]
    assert button["action_id"] == ActionId.MORE
    assert PageRef.parse(button["value"]) == QUEUE and QUEUE.q == "queue" and QUEUE.at is None


def test_many_policies_are_cut_and_blocks_stay_within_limits():
    many = tuple((f"Policy {i} " + "x" * 200, 10) for i in range(40))
    blocks = build(view(by_policy=many, oldest=("#" + "9" * 500, NOW)), NOW)
    assert check_message(blocks) == []
    assert f"…and {40 - MAX_POLICIES} more policies" in text_of(blocks)


@pytest.mark.parametrize("unposted,rate,out", [
    (0, 1.0, ""), (10, 0.0, ""), (90, 1.0, ", the last in about 1m"), (300, 1.0, ", the last in about 5m"),
    (300, 10.0, ", the last in about 30s"),
])
def test_eta(unposted, rate, out):
    assert eta(unposted, rate) == out


def test_fallback_text():
    assert text_fallback(view()) == ("287 orders waiting for approval here; 42 not posted yet. "
                                     "Decide from /approvals queue or holdfast's Home tab.")
    assert text_fallback(view(unposted=0, waiting=1)) == "Backlog posted: 1 order waiting for approval here."
