"""Slack's refusals become dead jobs that say what to do (bot/jobs/slack_calls.py)."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.jobs.errors import Deferred, GiveUp, RetryLater
from bot.jobs.slack_calls import _failure


def refused(data: dict, *, status: int = 200, sent: dict | None = None, headers: dict | None = None) -> SlackApiError:
    response = AsyncSlackResponse(client=None, http_verb="POST", api_url="https://slack.com/api/x",
                                  req_args=sent or {}, data=data, headers=headers or {}, status_code=status)
    return SlackApiError("refused", response)


@pytest.mark.parametrize("sent", [{"json": {"channel": "C0APPROVALS"}}, {"data": {"channel": "C0APPROVALS"}},
                                  {"params": {"channel_id": "C0APPROVALS"}}])
def test_not_in_channel_names_the_channel_and_the_invite(sent):
    failure = _failure(refused({"ok": False, "error": "not_in_channel"}, sent=sent))
    assert isinstance(failure, GiveUp) and not isinstance(failure, RetryLater)
    assert "invite the app: /invite @holdfast in <#C0APPROVALS>" in str(failure)


def test_missing_scope_and_channel_not_found_say_what_to_do():
    scope = _failure(refused({"ok": False, "error": "missing_scope", "needed": "im:history", "provided": "chat:write"}))
    assert isinstance(scope, GiveUp) and "lacks im:history" in str(scope) and "manifest.yml" in str(scope)
    gone = _failure(refused({"ok": False, "error": "channel_not_found"}, sent={"json": {"channel": "C0GONE"}}))
    assert "C0GONE does not exist, or is private and holdfast is not in it" in str(gone)
    assert str(_failure(refused({"ok": False, "error": "is_archived"}))) == "Slack said is_archived"


def test_waits_and_outages_are_not_refusals():
    assert isinstance(_failure(refused({"ok": False, "error": "ratelimited"}, status=429,
                                       headers={"Retry-After": "3"})), Deferred)
    assert type(_failure(refused({"ok": False, "error": "internal_error"}, status=500))) is RetryLater
