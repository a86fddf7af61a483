"""Security tests: the bot in-process (DevStack: sandbox Shopify + Slack on loopback) and helpers."""

from __future__ import annotations

import asyncio
import json
import os

import aiohttp
import pytest
from sqlmodel import func, select

from bot.cli.devstack import DevStack
from storage.models import ApprovalRequest, AuditEvent, Decision, Job, WebhookReceipt

# Every CI run sends at least this many generated inputs in total (see test_fuzz.py);
# HOLDFAST_FUZZ_EXAMPLES scales each generator for heavier runs.
FUZZ_SCALE = float(os.environ.get("HOLDFAST_FUZZ_EXAMPLES", "0") or 0)


@pytest.fixture
async def stack(database_url):
    """The bot over real HTTP against sandbox Shopify and Slack, with a fresh database."""
    async with DevStack(database_url=database_url) as s:
        yield s


async def snapshot(stack: DevStack) -> dict[str, int]:
    """Row counts of everything a processed request would add, plus the sandboxes' call logs."""
    out: dict[str, int] = {}
    async with stack.rt.sessions() as session:
        for name, model in (("jobs", Job), ("receipts", WebhookReceipt), ("requests", ApprovalRequest),
                            ("decisions", Decision), ("audit", AuditEvent)):
            out[name] = (await session.exec(select(func.count()).select_from(model))).one()
    out["shopify_calls"] = len(stack.shopify.calls)
    out["slack_calls"] = len(stack.slack.calls)
    out["slack_messages"] = sum(len(m) for m in stack.slack.messages.values())
    out["ephemerals"] = len(stack.slack.ephemerals)
    return out


async def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as resp:
        return resp.status, await resp.text()


async def raw_http(port: int, request: bytes, timeout: float = 10.0) -> int:
    """Send raw bytes as an HTTP/1.1 request (headers aiohttp's client would refuse); the status, 0 if none."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout)
        await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    parts = line.split()
    return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else 0


def raw_request(path: str, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
    head = [b"POST " + path.encode() + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close",
            b"Content-Length: " + str(len(body)).encode()]
    head += [k + b": " + v for k, v in headers]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def dumps(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()
