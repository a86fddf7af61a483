"""Where a client gets its shop's token: the TokenSource protocol, and fixed tokens (the shop table's renewing
source is bot/shopify/tokens.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.shopify.errors import ShopifyAuthError, ShopifyError


class TokenSource(Protocol):
    """Where a client gets its shop's token (bot/shopify/tokens.py), and a new one after a 401."""

    async def get(self, shop: str) -> str: ...

    async def fresh(self, shop: str, stale: str) -> str: ...


class StaticToken:
    """One fixed token (`holdfast check --online`, tests): a 401 is final."""

    def __init__(self, token: str):
        self._token = token

    def __repr__(self) -> str:
        return "StaticToken(…)"

    async def get(self, shop: str) -> str:
        return self._token

    async def fresh(self, shop: str, stale: str) -> str:
        raise ShopifyAuthError(f"{shop}: HTTP 401 from Shopify (check the access token and scopes)")


class LoadedToken(StaticToken):
    """A token looked up by a function (the older `token_for` form); a 401 is final."""

    def __init__(self, token_for: Callable[[str], Awaitable[str | None]]):
        super().__init__("")
        self._token_for = token_for

    async def get(self, shop: str) -> str:
        token = await self._token_for(shop)
        if not token:
            raise ShopifyError(f"{shop}: no access token configured")
        return token
