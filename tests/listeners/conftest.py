"""Listeners called on their own, as bolt would call them: a fake `ack`, a recording client, a real runtime.

The runtime is holdfast's own (a fresh database, the policies below); only Slack is a recorder, and nothing
here opens a socket. Every step a listener takes lands in one ordered `events` list, so a test can say what
happened first (bolt-python-starter-template's tests/listeners/ is the pattern).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event

from bot.app import build_runtime
from bot.approvals.machine import Status
from bot.approvals.policies import load_text
from bot.settings import Settings
from handlers import RUNTIME
from storage import requests
from storage.db import migrate, transaction

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
POLICIES = """
policies:
  - id: quick
    name: Quick approval
    channel: C0QUICK
    when: {total_price: {gte: 100}}
    approvers: {users: [U0ANA, U0BEN]}
    fields: {reject: []}
  - id: with-fields
    name: Needs a reason
    channel: C0FIELDS
    when: {total_price: {gte: 5000}}
    priority: 1
    approvers: {users: [U0ANA]}
    fields:
      approve: [{id: cost_centre, label: Cost centre, type: text, required: true}]
"""


class Events(list):
    """What happened, in order: ("ack", kwargs), ("slack", method, kwargs), ("db",) for SQL (one per run)."""


class FakeAck:
    def __init__(self, events: Events):
        self.events = events

    async def __call__(self, **kwargs: Any) -> None:
        self.events.append(("ack", kwargs))


class RecordingClient:
    """Any Web API method: recorded, answered `ok` (views.open answers with a view id, as Slack does)."""

    def __init__(self, events: Events):
        self.events = events

    def __getattr__(self, method: str):
        async def call(**kwargs: Any) -> dict[str, Any]:
            self.events.append(("slack", method, kwargs))
            return {"ok": True, "view": {"id": "V0LOADING"}} if method.startswith("views_") else {"ok": True}

        return call


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
async def rt(database_url, events):
    settings = Settings(database_url=database_url, slack_bot_token="xoxb-test", slack_signing_secret="secret",
                        run_scheduler=False)
    runtime = build_runtime(settings, now=lambda: NOW, policies=load_text(POLICIES, "listeners.yml"))
    await migrate(runtime.engine)

    def statement(*_: Any) -> None:  # every statement the listener runs, in order with its acks and Slack calls
        if not events or events[-1] != ("db",):
            events.append(("db",))

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", statement)
    yield runtime
    await runtime.engine.dispose()


@pytest.fixture
def ack(events) -> FakeAck:
    return FakeAck(events)


@pytest.fixture
def client(events) -> RecordingClient:
    return RecordingClient(events)


@pytest.fixture
def context(rt) -> dict[str, Any]:
    return {RUNTIME: rt}


async def add_request(rt, *, policy_id: str, order: str = "1001") -> int:
    """A pending request as flagging would have stored it."""
    async with transaction(rt.sessions) as session:
        req = await requests.create(
            session, shop_domain="shop.myshopify.com", order_gid=f"gid://shopify/Order/{order}", order_name=f"#{order}",
            status=Status.PENDING, version=0, policy_id=policy_id, policy_hash="h", reasons=["total price"],
            order_snapshot={"total_price": "120.00", "currency": "USD"}, channel="C0QUICK", created_at=NOW,
            updated_at=NOW)
        return req.id


def click(request_value: str, *, user: str = "U0ANA", action_id: str = "request-approve") -> tuple[dict, dict]:
    """A block_actions body and its action, as Slack sends them for a button on the request message."""
    action = {"action_id": action_id, "block_id": "request-decision", "value": request_value, "type": "button"}
    body = {"type": "block_actions", "user": {"id": user}, "trigger_id": "1337.42.abcd",
            "channel": {"id": "C0QUICK"}, "container": {"channel_id": "C0QUICK"}, "actions": [action]}
    return body, action
