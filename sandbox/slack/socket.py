"""Socket Mode: apps.connections.open, the websocket endpoint, envelopes and their acks, dropped connections.

The protocol is Slack's (https://docs.slack.dev/apis/events-api/using-socket-mode/): the app opens a
connection with an app-level token, gets a `hello`, then receives envelopes it must ack with
`{"envelope_id", "payload"?}`; Slack may send `disconnect` or just close the socket at any time, and a
well-behaved client asks apps.connections.open for a fresh URL and reconnects.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSCloseCode, WSMsgType, web

if TYPE_CHECKING:
    from .core import SlackSandbox

log = logging.getLogger(__name__)

OPEN_METHOD = "apps.connections.open"
KINDS = ("interactive", "slash_commands", "events_api")
# A ticket is meant to be used right away; an app holding one longer must ask for another.
TICKET_TTL_SECONDS = 60.0
HOST = "applink-sandbox-0"  # what Slack's debug_info.host looks like ("applink-<pod>")
# Interactive payloads whose ack body Slack reads (response_action, options); for the others it is ignored.
ANSWERED_INTERACTIONS = ("view_submission", "block_suggestion")


@dataclass
class Connection:
    """One live Socket Mode websocket."""

    id: int
    ws: web.WebSocketResponse
    opened: float
    envelopes: set[str] = field(default_factory=set)
    close_code: int | None = None  # who ended it, how: the client's code, or 1001 from drop()
    dropped: bool = False  # the sandbox closed it (drop); False when the client left on its own


class SocketHub:
    """The sandbox's Socket Mode side: issued tickets, live connections, envelopes awaiting an ack."""

    def __init__(self, sb: SlackSandbox) -> None:
        self.sb = sb
        self.tickets: dict[str, float] = {}
        self.live: list[Connection] = []
        self.envelopes: list[dict] = []  # {"envelope": ..., "ack": dict | None, "connection": id}
        self.history: list[Connection] = []  # every websocket accepted, in order
        self._waiting: dict[str, tuple[asyncio.Future, dict]] = {}
        self._ids = itertools.count(1)
        self._turn = 0

    # -- apps.connections.open -----------------------------------------------------------
    def connections_open(self, method: str, token: str) -> dict:
        """The Web API answer when `method` is apps.connections.open or `token` is the app-level token."""
        if token == self.sb.app_token and method != OPEN_METHOD:
            return {"ok": False, "error": "not_allowed_token_type"}  # an xapp token only opens connections
        if token == self.sb.bot_token:
            return {"ok": False, "error": "not_allowed_token_type"}  # Slack wants the xapp token here
        if token != self.sb.app_token:
            return {"ok": False, "error": "invalid_auth"}
        ticket = self.sb.short_id(32)
        self.tickets[ticket] = self.sb.clock()
        base = (self.sb.base_url or "").replace("https://", "wss://").replace("http://", "ws://")
        return {"ok": True, "url": f"{base}/socket-mode/{ticket}"}

    # -- the websocket -------------------------------------------------------------------
    async def serve(self, request: web.Request) -> web.StreamResponse:
        """GET /socket-mode/{ticket}: upgrade, say hello, then read acks until either side closes."""
        ticket = request.match_info["ticket"]
        issued = self.tickets.get(ticket)
        if issued is None or self.sb.clock() - issued > TICKET_TTL_SECONDS:
            return web.Response(status=401, text="invalid_ticket")
        ws = web.WebSocketResponse()  # autoping: the SDK's "sdk-ping-pong:<t>" pings get their pong
        await ws.prepare(request)
        del self.tickets[ticket]  # one connection per ticket, as apps.connections.open promises
        conn = Connection(id=next(self._ids), ws=ws, opened=self.sb.clock())
        self.live.append(conn)
        self.history.append(conn)
        try:
            await ws.send_json({
                "type": "hello", "num_connections": len(self.live),
                "debug_info": {"host": HOST, "build_number": 1, "approximate_connection_time": 18060},
                "connection_info": {"app_id": self.sb.app_id},
            })
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._ack(conn, msg.data)
        finally:
            if conn.close_code is None:  # the client closed it: its code (the echo of ours tells nothing)
                conn.close_code = ws.close_code
            self.live.remove(conn)
            for envelope_id in conn.envelopes:
                waiting = self._waiting.get(envelope_id)
                if waiting and not waiting[0].done():
                    waiting[0].set_exception(ConnectionError(f"connection closed before envelope {envelope_id} was acked"))
        return ws

    def _ack(self, conn: Connection, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            log.info("socket mode: ignoring a non-JSON message %r", text[:200])
            return
        envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
        waiting = self._waiting.get(envelope_id) if isinstance(envelope_id, str) else None
        if waiting is None:
            # Slack drops acks for envelopes it does not know (or already timed out on).
            log.info("socket mode: ack for unknown envelope %r", envelope_id)
            return
        future, record = waiting
        payload = message.get("payload")
        record["ack"] = payload if isinstance(payload, dict) else {}
        conn.envelopes.discard(envelope_id)
        if not future.done():
            future.set_result(record["ack"])

    # -- control API ---------------------------------------------------------------------
    async def deliver(self, kind: str, payload: dict, timeout: float = 5.0, *,
                      accepts_response_payload: bool | None = None) -> dict:
        """Send one envelope and wait for its ack; the ack's payload ({} when it has none)."""
        if kind not in KINDS:
            raise ValueError(f"envelope type must be one of {KINDS}, not {kind!r}")
        if accepts_response_payload is None:
            accepts_response_payload = kind == "slash_commands" or payload.get("type") in ANSWERED_INTERACTIONS
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        conn = await self._connection(deadline)
        # A UUID like Slack's, drawn from the sandbox's seeded generator so runs repeat.
        envelope_id = str(uuid.UUID(bytes=self.sb.short_id(16).encode(), version=4))
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                    "accepts_response_payload": accepts_response_payload, "retry_attempt": 0, "retry_reason": ""}
        record: dict[str, Any] = {"envelope": envelope, "ack": None, "connection": conn.id}
        self.envelopes.append(record)
        future: asyncio.Future = loop.create_future()
        self._waiting[envelope_id] = (future, record)
        conn.envelopes.add(envelope_id)
        try:
            await conn.ws.send_json(envelope)
            return await asyncio.wait_for(future, max(deadline - loop.time(), 0.001))
        except asyncio.TimeoutError:
            raise TimeoutError(f"no ack for {kind} envelope {envelope_id} within {timeout}s") from None
        finally:
            self._waiting.pop(envelope_id, None)
            conn.envelopes.discard(envelope_id)

    async def _connection(self, deadline: float) -> Connection:
        # Slack holds an envelope while the app is between connections; the sandbox waits as long as the caller does.
        loop = asyncio.get_running_loop()
        while True:
            live = [c for c in self.live if not c.ws.closed]
            if live:
                self._turn += 1  # several connections share the load, as Slack spreads envelopes over them
                return live[self._turn % len(live)]
            if loop.time() >= deadline:
                raise TimeoutError("no live Socket Mode connection")
            await asyncio.sleep(0.01)

    async def drop(self, reason: str | None = None, *, grace: float = 2.0) -> int:
        """Drop every live connection: close it (reason None) or send `disconnect` first; the count dropped."""
        conns = list(self.live)
        if reason is not None:
            for conn in conns:
                await conn.ws.send_json({"type": "disconnect", "reason": reason, "debug_info": {"host": HOST}})
            # A client that heeds `disconnect` closes the old socket itself; Slack closes it anyway afterwards.
            loop = asyncio.get_running_loop()
            deadline = loop.time() + grace
            while any(c in self.live for c in conns) and loop.time() < deadline:
                await asyncio.sleep(0.01)
        for conn in conns:
            if not conn.ws.closed:
                conn.dropped, conn.close_code = True, WSCloseCode.GOING_AWAY
                await conn.ws.close(code=WSCloseCode.GOING_AWAY, message=b"refresh_requested")
        return len(conns)

    @property
    def count(self) -> int:
        """Live connections."""
        return sum(1 for c in self.live if not c.ws.closed)


async def close_all(hub: SocketHub) -> None:
    """On server shutdown: close the websockets so the server need not wait for them."""
    for conn in list(hub.live):
        await conn.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
