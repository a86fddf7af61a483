"""shopify.app.toml, read once: the access scopes holdfast declares and the topics its app configuration subscribes.

The file is Shopify's own app configuration (https://shopify.dev/docs/apps/build/cli-for-apps/app-configuration),
pushed with `shopify app deploy`; holdfast reads the same file so the scopes it asks for at install and the
subscriptions it leaves to Shopify cannot drift from what was deployed.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

PATH = Path(__file__).resolve().parents[2] / "shopify.app.toml"


@dataclass(frozen=True)
class AppConfig:
    """What holdfast uses of the app configuration."""

    scopes: tuple[str, ...]
    api_version: str
    topics: frozenset[str]  # app-scoped subscription topics, as Shopify names them ("orders/create")
    compliance_topics: frozenset[str]
    redirect_paths: tuple[str, ...]  # the path of each [auth] redirect URL

    def topic_enums(self) -> frozenset[str]:
        """The subscribed topics as WebhookSubscriptionTopic values (ORDERS_CREATE)."""
        return frozenset(t.upper().replace("/", "_") for t in self.topics)


def parse(text: str) -> AppConfig:
    """The parts of a shopify.app.toml holdfast relies on (KeyError / TOMLDecodeError when they are missing)."""
    data = tomllib.loads(text)
    subs = data.get("webhooks", {}).get("subscriptions", [])
    redirects = data.get("auth", {}).get("redirect_urls", [])
    return AppConfig(
        scopes=tuple(s.strip() for s in data["access_scopes"]["scopes"].split(",") if s.strip()),
        api_version=data["webhooks"]["api_version"],
        topics=frozenset(t for s in subs for t in s.get("topics", [])),
        compliance_topics=frozenset(t for s in subs for t in s.get("compliance_topics", [])),
        redirect_paths=tuple("/" + u.split("://", 1)[-1].partition("/")[2] for u in redirects),
    )


@functools.cache
def load(path: Path = PATH) -> AppConfig:
    """The repository's shopify.app.toml."""
    return parse(path.read_text(encoding="utf-8"))
