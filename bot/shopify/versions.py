"""Noticing that Shopify answered with another Admin API version than the one holdfast pins.

Shopify serves a retired version as the oldest supported one ("falls forward"), and says which version answered
in the X-Shopify-API-Version header of every reply and every webhook (https://shopify.dev/docs/api/usage/versioning).
Nothing fails then, so holdfast says it once, in the log: the pinned version needs an update.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)
HEADER = "X-Shopify-API-Version"
_MAX_SEEN = 256  # (shop, version) pairs remembered; a few versions a year per shop


class VersionWatch:
    """Logs a warning the first time a (shop, version) differs from the pinned version."""

    def __init__(self, pinned: str, *, source: str) -> None:
        self.pinned = pinned
        self.source = source  # "Admin API reply", "webhook"
        self._seen: set[tuple[str | None, str]] = set()

    def see(self, served: str | None, shop: str | None = None) -> bool:
        """Note the version a reply or webhook says it was made with; True when this warned."""
        if not served or served == self.pinned:
            return False
        served = served[:32]  # a header value, logged: keep it short
        key = (shop, served)
        if key in self._seen or len(self._seen) >= _MAX_SEEN:
            return False
        self._seen.add(key)
        log.warning("%s%s came in Admin API version %r, not the pinned %r: Shopify serves a retired version as the "
                    "oldest one it supports; set HOLDFAST_SHOPIFY_API_VERSION to a supported version "
                    "(https://shopify.dev/docs/api/usage/versioning)",
                    f"{shop}: " if shop else "", self.source, served, self.pinned)
        return True
