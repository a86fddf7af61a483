"""`holdfast sandbox send FILE`: POST a saved webhook body (one of Shopify's samples, a body captured from a real
shop) to a running `holdfast serve`, signed and headed as Shopify sends it, and show what holdfast answered.

The signing lives with the sandbox (sandbox/webhooks.py, reached through bot/cli/devstack.py as the layering
allows): X-Shopify-Hmac-Sha256 is the base64 HMAC-SHA256 of the file's exact bytes under the app secret, the one
holdfast verifies (https://shopify.dev/docs/apps/build/webhooks/subscribe/https#step-5-verify-the-webhook).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from bot.cli import exits

DEFAULT_URL = "http://127.0.0.1:3000/shopify/webhooks"
# The sandbox's shop and app secret (sandbox/workspace.py; a test holds these to it). Spelled out here so that
# `holdfast --help` does not load the sandbox and the bot to show them.
SANDBOX_SHOP = "demo-store.myshopify.com"
SANDBOX_SECRET = "sandbox-shopify-app-secret"
TIMEOUT_S = 5.0  # Shopify's own: an answer within five seconds, or the delivery failed


def add_parser(sandbox: argparse.ArgumentParser) -> None:
    """`send` under `holdfast sandbox` (plain `holdfast sandbox`, no subcommand, still runs the stand-ins)."""
    from bot.settings import Settings

    api_version = str(Settings.model_fields["shopify_api_version"].default)
    sub = sandbox.add_subparsers(dest="sandbox_command", metavar="{send}")
    s = sub.add_parser("send", help="sign a webhook body file as Shopify does and POST it to a running holdfast")
    s.add_argument("file", type=Path, help="the webhook body, sent byte for byte (e.g. one of Shopify's samples)")
    s.add_argument("--topic", default="orders/create", help="X-Shopify-Topic")
    s.add_argument("--url", default=DEFAULT_URL, help="holdfast's webhook endpoint (`holdfast serve`)")
    s.add_argument("--shop", default=SANDBOX_SHOP, help="X-Shopify-Shop-Domain: the shop it comes from")
    s.add_argument("--secret", default=SANDBOX_SECRET,
                   help="the app secret that signs it (holdfast's SHOPIFY_CLIENT_SECRET; here, the sandbox's)")
    s.add_argument("--api-version", default=api_version, help="X-Shopify-API-Version: the version of the body")
    s.add_argument("--timeout", type=float, default=TIMEOUT_S, help="seconds to wait for holdfast's answer")
    s.set_defaults(func=cmd_send)


def cmd_send(args: argparse.Namespace) -> int:
    """Send the file; exit 0 when holdfast accepted it (2xx), 1 when it refused or nothing answered."""
    try:
        raw = args.file.read_bytes()
    except OSError as exc:
        print(f"cannot read {args.file}: {exc.strerror}; give the path of a webhook body file.", file=sys.stderr)
        return exits.CONFIG
    try:
        json.loads(raw)
    except ValueError:  # sent all the same: how holdfast takes a broken body is worth trying too
        print(f"note: {args.file} is not JSON; sending it as it is.", file=sys.stderr)
    try:
        status, reply, headers = asyncio.run(send(url=args.url, topic=args.topic, shop=args.shop, secret=args.secret,
                                                  raw=raw, api_version=args.api_version, timeout=args.timeout))
    except (OSError, TimeoutError) as exc:
        reason = "no answer in time" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        print(f"nothing answered at {args.url} ({reason}); start `holdfast serve` or pass --url.", file=sys.stderr)
        return exits.FAILED
    print(f"POST {args.url} ({args.topic} from {args.shop}, {len(raw)} bytes, webhook id "
          f"{headers['X-Shopify-Webhook-Id']}): {status}")
    if reply:
        print(reply)
    return exits.OK if 200 <= status < 300 else exits.FAILED


async def send(*, url: str, topic: str, shop: str, secret: str, raw: bytes, api_version: str,
               timeout: float) -> tuple[int, str, dict[str, str]]:
    """(status, reply, headers sent) of one signed POST of `raw`."""
    import aiohttp

    from bot.cli.devstack import post_signed_webhook

    try:
        return await post_signed_webhook(url, topic=topic, shop=shop, secret=secret, raw=raw,
                                         api_version=api_version, timeout=timeout)
    except aiohttp.ClientConnectionError as exc:  # refused, reset: the same sentence as any OSError
        raise ConnectionError(str(exc)) from None
