"""Each shop's ShipStation account: its key (sealed in the database, storage/shipstation.py) and, per API key, the
request budget every client of that account shares in this process (ShipStation's limit is per account:
https://docs.shipstation.com/rate-limits).

This module does not import bot.runtime (the runtime holds an `Accounts`); `rt` is the Runtime, duck-typed.
"""

from __future__ import annotations

import hashlib
from typing import Any

import aiohttp

from bot.shipstation.client import Budget, ShipStationClient
from bot.shipstation.errors import ShipStationTransient
from storage import shipstation as keys_table
from storage.secrets import Keyring


class Accounts:
    """This process's ShipStation side: the HTTP session (set by the composition root) and a budget per API key."""

    def __init__(self) -> None:
        self.session: aiohttp.ClientSession | None = None
        self._budgets: dict[str, Budget] = {}

    def __repr__(self) -> str:
        return f"Accounts({len(self._budgets)} account(s))"

    def budget(self, api_key: str) -> Budget:
        """The budget of the account this key opens; two shops on one ShipStation account share it."""
        digest = hashlib.sha256(api_key.encode()).hexdigest()  # never the key itself, even as a dict key
        return self._budgets.setdefault(digest, Budget())


def _keyring(settings: Any) -> Keyring:
    # As bot.app.keyring (bot.app imports the runtime, which imports this module: no import back).
    return Keyring(current=settings.secret_key.get_secret_value(), previous=settings.previous_secret_keys())


async def key_of(rt: Any, shop: str) -> str | None:
    """The shop's ShipStation API key, opened; None: no key, the connector is off for the shop.

    SecretKeyError (one sentence naming the settings) when no configured key opens it."""
    async with rt.sessions() as session:
        sealed = await keys_table.key_for(session, shop=shop)
    if sealed is None:
        return None
    return _keyring(rt.settings).open(sealed, what=f"the ShipStation API key of {shop}").value


async def client_for(rt: Any, shop: str) -> ShipStationClient | None:
    """A client for the shop's ShipStation account; None when the shop has no key (the connector is off for it)."""
    api_key = await key_of(rt, shop)
    if api_key is None:
        return None
    accounts: Accounts = rt.shipstation
    http = accounts.session or getattr(getattr(rt, "shopify", None), "session", None)
    if http is None:
        raise ShipStationTransient("the HTTP session is not started yet")
    return ShipStationClient(rt.settings.shipstation_api_url, api_key, http, budget=accounts.budget(api_key),
                             timeout_s=rt.settings.shipstation_timeout_s)
