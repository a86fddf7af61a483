"""`holdfast shipstation key --shop X`: store a shop's ShipStation API key, sealed, without putting it in the
environment (SHIPSTATION_API_KEYS) — read from stdin, never from the command line (argv is visible to every user
of the machine in `ps`, and kept in shell histories).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import re
import sys
from collections.abc import Callable
from typing import Any

from bot.cli.common import database_problem, fail
from bot.cli.secrets import sealing
from bot.clock import utcnow
from bot.settings import Settings
from storage import shipstation
from storage.secrets import SecretKeyError

SHOP = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
WHERE = "ShipStation → Settings → Account → API Settings"  # where a V2 key is made (the fix of a refused key)


def read_key(stream: Any) -> str:
    """The key from stdin: typed at a terminal without echo, else the first line of what was piped in."""
    if stream.isatty():
        return getpass.getpass("ShipStation API key (not echoed): ").strip()
    return (stream.readline() or "").strip()


async def store(settings: Settings, *, shop: str, key: str) -> bool:
    """Seal and store the key; True when it was written (False: the same key was stored already)."""
    async with sealing(settings) as (session, keys):
        return await shipstation.upsert_key(session, shop=shop, key=key, now=utcnow(), keys=keys)


def cmd_key(args: argparse.Namespace, settings: Settings) -> int:
    """Read the key from stdin and store it sealed for the shop."""
    shop = args.shop.strip().lower()
    if not SHOP.match(shop):
        return fail([f"--shop {args.shop!r} is not a shop domain: give the store's your-store.myshopify.com"], "")
    key = read_key(sys.stdin)
    if not key:
        return fail([(f"no ShipStation API key on stdin: pipe it in (`holdfast shipstation key --shop {shop} "
                     f"< key.txt`) or type it at the prompt; make one in {WHERE}")], "")
    if any(c.isspace() for c in key):
        return fail(["that is not one ShipStation API key (it has spaces in it): give the key alone"], "")
    if (code := database_problem(settings)) is not None:
        return code
    try:
        written = asyncio.run(store(settings, shop=shop, key=key))
    except SecretKeyError as exc:
        return fail([str(exc)], "Nothing was stored.")
    said = "stored" if written else "already stored (unchanged)"
    print(f"ShipStation API key of {shop} {said}, encrypted with HOLDFAST_SECRET_KEY; its ShipStation rules apply "
          "from the next job (no restart needed)")
    return 0


def add_parsers(sub: Any, settings_of: Callable[[argparse.Namespace], Settings]) -> None:
    """Register `holdfast shipstation key`."""
    s = sub.add_parser("shipstation", help="the ShipStation connector: store a shop's API key",
                       description="The ShipStation connector (policies' `shipstation:` blocks). A shop without a "
                                   "key is left alone in ShipStation.")
    cmds = s.add_subparsers(dest="shipstation_command", metavar="COMMAND", required=True)
    k = cmds.add_parser("key", help="store a shop's ShipStation API key, read from stdin (never from the command "
                                    "line), encrypted with HOLDFAST_SECRET_KEY",
                        description="Read one ShipStation V2 API key from stdin (a prompt without echo at a "
                                    "terminal) and store it sealed in DATABASE_URL for --shop, replacing any key "
                                    "stored for it. SHIPSTATION_API_KEYS, when set, is stored the same way at start.")
    k.add_argument("--shop", required=True, help="the shop's domain, your-store.myshopify.com (required; no default)")
    k.set_defaults(func=lambda args: cmd_key(args, settings_of(args)))
