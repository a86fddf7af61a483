"""A Slack user simulator: signed interactivity and slash-command requests to the bot, as Slack sends them."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from typing import Any, Callable
from urllib.parse import urlencode

import aiohttp

from sandbox.slack import SlackSandbox
from sandbox.slack.views import apply_submission_answer, view_api

FORM = "application/x-www-form-urlencoded"
TRANSPORTS = ("http", "socket")
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


def sign_slack_request(signing_secret: str, timestamp: str, body: bytes) -> str:
    """Slack's v0 signature: "v0=" + hex HMAC-SHA256(secret, b"v0:" + ts + b":" + body)."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


class SlackSimulator:
    """Clicks buttons, runs slash commands and submits modals against the bot's /slack/events (or its Socket Mode)."""

    def __init__(self, events_url: str, signing_secret: str, slack: SlackSandbox, team_id: str = "T0HOLDFAST",
                 clock: Callable[[], float] = time.time, *, api_app_id: str | None = None,
                 verification_token: str = "sandbox-verification-token", transport: str = "http",
                 socket_timeout: float = 5.0) -> None:
        if transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {TRANSPORTS}, not {transport!r}")
        self.transport = transport  # "socket": the same payloads, as Socket Mode envelopes (no signature)
        self.socket_timeout = socket_timeout
        self.events_url = events_url
        self.signing_secret = signing_secret
        self.slack = slack
        self.team_id = team_id
        self.clock = clock
        self.api_app_id = api_app_id or slack.app_id
        self.verification_token = verification_token
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SlackSimulator:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the simulator's HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- transport ------------------------------------------------------------------
    async def post_raw(self, body: bytes, content_type: str, *, timestamp: str | None = None,
                       signature: str | None = None, headers: dict[str, str] | None = None) -> tuple[int, str]:
        """POST body to the bot, signed unless `signature` is given; returns (status, text)."""
        timestamp = timestamp if timestamp is not None else str(int(self.clock()))
        all_headers = {
            "Content-Type": content_type,
            "User-Agent": USER_AGENT,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature if signature is not None
            else sign_slack_request(self.signing_secret, timestamp, body),
            **(headers or {}),
        }
        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.post(self.events_url, data=body, headers=all_headers) as resp:
            return resp.status, await resp.text()

    async def _send_payload(self, payload: dict) -> tuple[int, str]:
        if self.transport == "socket":
            return await self._via_socket("interactive", payload)
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self.post_raw(body, FORM)

    async def _via_socket(self, kind: str, payload: dict) -> tuple[int, str]:
        """Deliver over Socket Mode; an ack reads as HTTP 200 with its payload as the body (raises if none)."""
        ack = await self.slack.socket_deliver(kind, payload, self.socket_timeout)
        return 200, json.dumps(ack) if ack else ""

    # -- payload parts --------------------------------------------------------------
    def _user(self, user_id: str) -> dict:
        user = self.slack.users.get(user_id)
        if user is None:
            raise ValueError(f"unknown Slack user {user_id!r}: add it with sb.add_user first")
        return {"id": user_id, "username": user["name"], "name": user["name"], "team_id": self.team_id}

    def _team(self) -> dict:
        return {"id": self.team_id, "domain": self.slack.team_domain}

    def _common(self, kind: str, user_id: str) -> dict:
        return {"type": kind, "user": self._user(user_id), "api_app_id": self.api_app_id,
                "token": self.verification_token, "team": self._team(), "enterprise": None,
                "is_enterprise_install": False}

    def _channel_name(self, channel_id: str) -> str:
        # Slack names every DM "directmessage" in interaction payloads.
        channel = self.slack.channels.get(channel_id)
        return "directmessage" if channel is None or channel["is_im"] else channel["name"]

    def _action_ts(self) -> str:
        return f"{self.clock():.6f}"

    # -- interactions ---------------------------------------------------------------
    async def click(self, channel: str, ts: str, action_id: str, user_id: str, value: str | None = None,
                    *, block_id: str | None = None) -> tuple[int, str]:
        """Click an element of the message at (channel, ts), as a block_actions payload."""
        msg = self.slack.message(channel, ts)
        block, element = _find_element(msg.blocks, action_id, block_id)
        payload = self._common("block_actions", user_id)
        payload.update({
            "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False},
            "trigger_id": self.slack.new_trigger_id(user_id),
            "channel": {"id": channel, "name": self._channel_name(channel)},
            "message": self.slack.message_api(msg),
            "state": {"values": {}},
            "response_url": self.slack.issue_response_url(channel=channel, message_ts=ts, user=user_id),
            "actions": [_action(block, element, value, self._action_ts())],
        })
        return await self._send_payload(payload)

    async def click_view(self, view_id: str, action_id: str, user_id: str, value: str | None = None,
                         *, block_id: str | None = None) -> tuple[int, str]:
        """Click an element in a modal or App Home view, as a block_actions payload."""
        view = self.slack.views[view_id]
        block, element = _find_element(view["blocks"], action_id, block_id)
        payload = self._common("block_actions", user_id)
        payload.update({
            "container": {"type": "view", "view_id": view_id},
            "trigger_id": self.slack.new_trigger_id(user_id),
            "view": view_api(view),
            "actions": [_action(block, element, value, self._action_ts())],
        })
        return await self._send_payload(payload)

    async def slash(self, command: str, text: str, user_id: str, channel_id: str) -> tuple[int, str]:
        """Run a slash command, sent form-encoded exactly like Slack's."""
        user = self._user(user_id)
        fields = {
            "token": self.verification_token, "team_id": self.team_id, "team_domain": self.slack.team_domain,
            "channel_id": channel_id,
            "channel_name": self._channel_name(channel_id),
            "user_id": user_id, "user_name": user["name"], "command": command, "text": text,
            "api_app_id": self.api_app_id, "is_enterprise_install": "false",
            "response_url": self.slack.issue_response_url(channel=channel_id, message_ts=None, user=user_id),
            "trigger_id": self.slack.new_trigger_id(user_id),
        }
        if self.transport == "socket":
            return await self._via_socket("slash_commands", fields)
        return await self.post_raw(urlencode(fields).encode(), FORM)

    async def click_ephemeral(self, ephemeral: dict, action_id: str, user_id: str, value: str | None = None,
                              *, block_id: str | None = None) -> tuple[int, str]:
        """Click an element of an ephemeral message (an entry of `slack.ephemerals`), as Slack sends it."""
        block, element = _find_element(ephemeral["blocks"], action_id, block_id)
        channel = ephemeral.get("channel")
        payload = self._common("block_actions", user_id)
        payload.update({
            "container": {"type": "message", "message_ts": ephemeral["message_ts"], "channel_id": channel,
                          "is_ephemeral": True},
            "trigger_id": self.slack.new_trigger_id(user_id),
            "channel": {"id": channel, "name": self._channel_name(channel)} if channel else None,
            "state": {"values": {}},
            "response_url": self.slack.issue_response_url(channel=channel, message_ts=None, user=user_id),
            "actions": [_action(block, element, value, self._action_ts())],
        })
        return await self._send_payload(payload)

    async def event(self, event: dict, *, event_id: str | None = None) -> tuple[int, str]:
        """Deliver an Events API event_callback (JSON, signed), as Slack does."""
        now = int(self.clock())
        body = {"token": self.verification_token, "team_id": self.team_id, "api_app_id": self.api_app_id,
                "event": {"event_ts": f"{self.clock():.6f}", **event}, "type": "event_callback",
                "event_id": event_id or "Ev" + self.slack.new_id(10), "event_time": now,
                "authorizations": [{"team_id": self.team_id, "user_id": self.slack.bot_user_id, "is_bot": True,
                                    "is_enterprise_install": False}],
                "is_ext_shared_channel": False}
        if self.transport == "socket":
            return await self._via_socket("events_api", body)
        return await self.post_raw(json.dumps(body).encode(), "application/json")

    async def open_home(self, user_id: str) -> tuple[int, str]:
        """The user opens the app's Home tab (app_home_opened)."""
        self._user(user_id)
        channel, _ = self.slack.open_dm(user_id)
        view = self.slack.home_views.get(user_id)
        event = {"type": "app_home_opened", "user": user_id, "channel": channel, "tab": "home"}
        if view:
            event["view"] = view_api(view)
        return await self.event(event)

    async def suggest(self, view_id: str, action_id: str, user_id: str, value: str, *, block_id: str | None = None,
                      values: dict[str, dict[str, dict]] | None = None) -> tuple[int, str]:
        """Type into an external_select of a modal: the block_suggestion request Slack sends for its options."""
        view = self.slack.views[view_id]
        block, element = _find_element(view["blocks"], action_id, block_id)
        if element.get("type") not in ("external_select", "multi_external_select"):
            raise LookupError(f"{action_id!r} is a {element.get('type')}, not an external select")
        sent = view_api(view)
        sent["state"] = {"values": copy.deepcopy(values or {})}
        payload = self._common("block_suggestion", user_id)
        payload.update({"container": {"type": "view", "view_id": view_id}, "action_id": action_id,
                        "block_id": block["block_id"], "value": value, "view": sent})
        return await self._send_payload(payload)

    async def submit_view(self, view_id: str, user_id: str, values: dict[str, dict[str, dict]]) -> tuple[int, str]:
        """Submit a modal with input values {block_id: {action_id: {type, value|selected_option|...}}}."""
        view = self.slack.views[view_id]
        _check_values(view, values)
        sent = view_api(view)
        sent["state"] = {"values": copy.deepcopy(values)}
        payload = self._common("view_submission", user_id)
        payload.update({"trigger_id": self.slack.new_trigger_id(user_id), "view": sent, "response_urls": []})
        status, body = await self._send_payload(payload)
        if status == 200:
            view["state"] = {"values": copy.deepcopy(values)}
            try:
                answer = json.loads(body) if body.strip() else None
            except ValueError:
                answer = None
            apply_submission_answer(self.slack, view_id, answer)
        return status, body


def _find_element(blocks: list[dict], action_id: str, block_id: str | None) -> tuple[dict, dict]:
    """The (block, element) carrying action_id; block_id picks one when several blocks share it."""
    found = []
    for block in blocks:
        if block_id is not None and block.get("block_id") != block_id:
            continue
        candidates = list(block.get("elements", [])) if block.get("type") == "actions" else []
        candidates += [block[k] for k in ("accessory", "element") if isinstance(block.get(k), dict)]
        found += [(block, e) for e in candidates if isinstance(e, dict) and e.get("action_id") == action_id]
    if not found:
        raise LookupError(f"no element with action_id {action_id!r} in these blocks")
    if len(found) > 1:
        raise LookupError(f"action_id {action_id!r} is in {len(found)} blocks: pass block_id=")
    return found[0]


def _action(block: dict, element: dict, value: str | None, action_ts: str) -> dict:
    """One entry of a block_actions payload's "actions", shaped per element type."""
    kind = element.get("type")
    action: dict[str, Any] = {"action_id": element["action_id"], "block_id": block["block_id"], "type": kind,
                              "action_ts": action_ts}
    if kind == "button":
        action["text"] = copy.deepcopy(element.get("text"))
        chosen = value if value is not None else element.get("value")
        if chosen is not None:
            action["value"] = chosen
        if element.get("style"):
            action["style"] = element["style"]
    elif kind in ("static_select", "overflow", "radio_buttons"):
        options = [o for group in element.get("option_groups", []) for o in group.get("options", [])]
        options += element.get("options", [])
        match = [o for o in options if o.get("value") == value]
        if not match:
            raise LookupError(f"option {value!r} not offered by {element['action_id']!r}")
        action["selected_option"] = copy.deepcopy(match[0])
    elif kind == "datepicker":
        action["selected_date"] = value
    elif kind in ("users_select", "conversations_select", "channels_select"):
        action[{"users_select": "selected_user", "conversations_select": "selected_conversation",
                "channels_select": "selected_channel"}[kind]] = value
    else:
        action["value"] = value
    return action


def _check_values(view: dict, values: dict) -> None:
    """Refuse values for inputs the view does not have (a test bug, not a bot bug)."""
    inputs = {b.get("block_id"): b.get("element", {}).get("action_id") for b in view["blocks"]
              if b.get("type") == "input"}
    for block_id, actions in values.items():
        if block_id not in inputs:
            raise LookupError(f"view {view['id']} has no input block {block_id!r} (has {sorted(inputs)})")
        for action_id in actions:
            if action_id != inputs[block_id]:
                raise LookupError(f"input block {block_id!r} has action_id {inputs[block_id]!r}, not {action_id!r}")
