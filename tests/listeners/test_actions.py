"""The decision buttons, called as bolt calls them."""

from __future__ import annotations

import asyncio

import pytest

from bot.blocks.ids import RequestRef
from handlers import actions, views
from storage import jobs, requests
from tests.listeners.conftest import add_request, click


async def test_approve_acks_before_it_loads_or_records_anything(rt, ack, client, context, events):
    request_id = await add_request(rt, policy_id="quick")
    events.clear()
    body, action = click(RequestRef(request_id=request_id, version=0).dump())

    await actions.approve(ack=ack, body=body, action=action, client=client, context=context)

    assert events[0] == ("ack", {}), events[:3]
    assert ("db",) in events[1:], "the vote was never recorded"
    async with rt.sessions() as session:
        assert await requests.votes(session, request_id=request_id) == [("U0ANA", "approve")]
        assert (await jobs.counts(session)).get("pending"), "the vote's effects were queued with it"
    assert not [e for e in events if e[0] == "slack"], "a vote talks to Slack through jobs, not from the listener"


async def test_a_button_that_asks_for_fields_opens_the_modal_before_any_database_work(rt, ack, client, context,
                                                                                        events):
    request_id = await add_request(rt, policy_id="with-fields")
    events.clear()
    body, action = click(RequestRef(request_id=request_id, version=0, form=True).dump())

    await actions.approve(ack=ack, body=body, action=action, client=client, context=context)

    # Slack's trigger_id lives 3 s: the listener acks and opens the (loading) modal before it reads anything.
    assert [e[0] for e in events[:2]] == ["ack", "slack"]
    assert events[1][1] == "views_open" and events[1][2]["trigger_id"] == "1337.42.abcd"
    assert ("db",) not in events[:2]
    await asyncio.gather(*actions.BACKGROUND)
    update = [e for e in events if e[0] == "slack" and e[1] == "views_update"]
    assert update and update[0][2]["view_id"] == "V0LOADING"
    assert "Cost centre" in str(update[0][2]["view"]), "the form was filled after the modal opened"


@pytest.mark.parametrize("value", [
    "",
    "not json",
    '{"request_id": 1, "version": 0, "approved": true}',  # a field we never send
    '{"request_id": "1; DROP TABLE approval_request", "version": 0}',
    '{"request_id": 1}',
])
async def test_a_tampered_button_value_is_acked_and_changes_nothing(rt, ack, client, context, events, value):
    await add_request(rt, policy_id="quick")
    events.clear()
    body, action = click(value)

    await actions.approve(ack=ack, body=body, action=action, client=client, context=context)
    await actions.reject(ack=ack, body=body, action=action, client=client, context=context)

    assert events == [("ack", {}), ("ack", {})], "nothing loaded, nothing sent, nothing written"


async def test_a_click_from_someone_who_is_not_an_approver_is_refused_server_side(rt, ack, client, context, events):
    request_id = await add_request(rt, policy_id="quick")
    body, action = click(RequestRef(request_id=request_id, version=0).dump(), user="U0MALLORY")

    await actions.approve(ack=ack, body=body, action=action, client=client, context=context)

    async with rt.sessions() as session:
        assert await requests.votes(session, request_id=request_id) == []
        req = await requests.get(session, request_id=request_id)
    assert req.status == "pending" and req.version == 0


async def test_a_tampered_modal_is_closed_and_changes_nothing(rt, ack, context, events):
    await add_request(rt, policy_id="with-fields")
    events.clear()
    view = {"callback_id": "decision-modal", "private_metadata": '{"request_id": 1, "vote": "approve!"}',
            "state": {"values": {}}}

    await views.submit_decision(ack=ack, body={"user": {"id": "U0ANA"}}, view=view, context=context)

    assert events == [("ack", {})]
