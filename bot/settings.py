"""Settings: built once at start-up and passed down; nothing reads the environment at import time."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.secrets import MISSING_KEY


def _env(name: str) -> AliasChoices:
    # Accept both the conventional name (SLACK_BOT_TOKEN) and the prefixed one (HOLDFAST_SLACK_BOT_TOKEN).
    return AliasChoices(name, f"HOLDFAST_{name}")


def data_dir() -> Path:
    """$HOLDFAST_DATA_DIR, else $XDG_DATA_HOME/holdfast, else ~/.local/share/holdfast (the XDG base directory
    spec's default, https://specifications.freedesktop.org/basedir-spec/latest/)."""
    if explicit := os.environ.get("HOLDFAST_DATA_DIR"):
        return Path(explicit).expanduser().resolve()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return (Path(base).expanduser() / "holdfast").resolve()


def default_database_url() -> str:
    """The SQLite file holdfast uses when DATABASE_URL is not set (an absolute path; its folder is made)."""
    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{folder / 'holdfast.db'}"


class Settings(BaseSettings):
    """Everything holdfast needs to run; every external base URL is a field so tests can point it at the sandbox."""

    model_config = SettingsConfigDict(env_prefix="HOLDFAST_", extra="ignore", populate_by_name=True)

    # Default: one SQLite file in the user's data directory, the same whatever directory holdfast starts from (a
    # relative path would make a fresh, empty database wherever `serve` was started, and re-flag old orders).
    database_url: str = Field(default_factory=lambda: default_database_url(), validation_alias=_env("DATABASE_URL"))
    config_path: Path = Field(Path("holdfast.yml"), validation_alias=_env("CONFIG"))
    # Written by `holdfast serve`; `holdfast check --reload` signals it. Empty: no pid file.
    pid_file: Path | None = Path("holdfast.pid")

    @field_validator("pid_file", mode="before")
    @classmethod
    def _no_pid_file(cls, v: object) -> object:
        return None if v in ("", None) else v

    slack_bot_token: SecretStr = Field(SecretStr(""), validation_alias=_env("SLACK_BOT_TOKEN"))
    slack_signing_secret: SecretStr = Field(SecretStr(""), validation_alias=_env("SLACK_SIGNING_SECRET"))
    slack_app_token: SecretStr = Field(SecretStr(""), validation_alias=_env("SLACK_APP_TOKEN"))
    slack_api_url: str = Field("https://slack.com/api/", validation_alias=_env("SLACK_API_URL"))

    # The Dev Dashboard app's credentials (your app → Settings): they fetch tokens (bot/shopify/tokens.py) and the
    # secret signs every webhook (https://shopify.dev/docs/apps/build/authentication-authorization/client-secrets).
    shopify_client_id: str = Field("", validation_alias=_env("SHOPIFY_CLIENT_ID"))
    shopify_client_secret: SecretStr = Field(SecretStr(""), validation_alias=_env("SHOPIFY_CLIENT_SECRET"))
    # Your own store(s), served with the client credentials grant (comma separated *.myshopify.com domains). Stores
    # of other organizations are installed through /shopify/install instead, and need no setting.
    shopify_shop: str = Field("", validation_alias=AliasChoices("SHOPIFY_SHOP", "HOLDFAST_SHOPIFY_SHOP",
                                                                "SHOPIFY_SHOP_DOMAINS"))
    # Where the token endpoint and the authorize page are ({shop}: the shop's myshopify domain).
    shopify_oauth_url: str = Field("https://{shop}/admin/oauth", validation_alias=_env("SHOPIFY_OAUTH_URL"))
    # A token is renewed this long before it expires ("a few minutes before",
    # https://shopify.dev/changelog/offline-access-tokens-now-support-expiry-and-refresh).
    shopify_token_renew_margin_s: float = Field(300.0, ge=0)
    # How often a client-credentials shop that was uninstalled is asked for a token again (a reinstall from the Dev
    # Dashboard sends holdfast nothing); its jobs are cancelled without a call in between.
    shopify_uninstalled_retry_s: float = Field(300.0, ge=0)
    # Legacy: the API secret of an admin-created custom app (the client secret under its old name).
    shopify_api_secret: SecretStr = Field(SecretStr(""), validation_alias=_env("SHOPIFY_API_SECRET"))
    # Accepted as well for a while after a secret rotation, so in-flight webhook retries still verify.
    shopify_api_secret_previous: SecretStr = Field(SecretStr(""), validation_alias=_env("SHOPIFY_API_SECRET_PREVIOUS"))
    # Each stable version is supported for at least 12 months (https://shopify.dev/docs/api/usage/versioning).
    shopify_api_version: str = "2026-10"
    shopify_admin_url: str = Field(
        "https://{shop}/admin/api/{version}/graphql.json", validation_alias=_env("SHOPIFY_ADMIN_URL")
    )
    # Legacy (an admin-created custom app's static token): "shop.myshopify.com=shpat_…" pairs, comma separated.
    # Secret: repr() and logs of the settings never show the tokens.
    shopify_shops: SecretStr = Field(SecretStr(""), validation_alias=_env("SHOPIFY_SHOPS"))
    # Fernet keys (storage/secrets.py) sealing the tokens stored in the database: the current one seals, the
    # previous ones (comma separated, newest first) only open, until `holdfast rotate-secrets` has re-sealed.
    # HOLDFAST_ only: a bare SECRET_KEY is too often another program's.
    secret_key: SecretStr = Field(SecretStr(""), validation_alias=AliasChoices("HOLDFAST_SECRET_KEY"))
    secret_key_previous: SecretStr = Field(SecretStr(""), validation_alias=AliasChoices("HOLDFAST_SECRET_KEY_PREVIOUS"))
    # ShipStation (issue #20; bot/shipstation/): the V2 API's base URL (the sandbox stands in through it), and each
    # shop's API key, "shop.myshopify.com=KEY" pairs, comma separated: sealed into the database at start
    # (storage/shipstation.py) like SHOPIFY_SHOPS tokens; `holdfast shipstation key --shop` sets one without it.
    shipstation_api_url: str = "https://api.shipstation.com"
    shipstation_api_keys: SecretStr = Field(SecretStr(""), validation_alias=_env("SHIPSTATION_API_KEYS"))
    shipstation_timeout_s: float = Field(10.0, gt=0)
    # How long a flagged order's shipment is looked for (ShipStation imports Shopify orders on its own schedule),
    # and how often; a hold lasts until today + shipstation_hold_days (at least the policy's expiry + 2 days).
    shipstation_find_for_s: float = Field(1800.0, gt=0)
    shipstation_find_every_s: float = Field(30.0, gt=0)
    shipstation_hold_days: int = Field(30, ge=1)
    shopify_timeout_s: float = 10.0
    slack_timeout_s: float = 10.0
    usergroup_cache_s: float = 300.0  # how long a user group's members are trusted before asking Slack again

    # None: migrate at start on SQLite only (PostgreSQL deploys run `holdfast migrate` as a release step).
    auto_migrate: bool | None = None
    host: str = "0.0.0.0"
    port: int = Field(3000, validation_alias=AliasChoices("PORT", "HOLDFAST_PORT"))
    run_worker: bool = True
    # `holdfast worker` serves its own Prometheus metrics here (0: none); the web process has them at /metrics.
    worker_metrics_port: int = Field(9464, ge=0, le=65535)
    # Slots are cheap (a job mostly waits on Slack or Shopify); few slots under a backlog meant a claim per
    # finished job, and on SQLite those claims queued for the one write lock with the jobs' own commits.
    worker_concurrency: int = Field(64, ge=1)
    worker_poll_s: float = 0.5
    # Claims come at most this often: under load a claim then takes the jobs of many commits at once (a claim
    # per commit cost more than the jobs' own reads); an idle worker claims at once.
    worker_claim_gap_s: float = Field(0.02, ge=0)
    job_max_attempts: int = 8
    job_backoff_base_s: float = 1.0
    job_backoff_max_s: float = 300.0
    job_lease_s: float = 60.0
    # How long one run of a job may take unless its kind says otherwise (JobSpec.timeout_s): a run still going
    # then is cancelled and retried with backoff, so a call that never answers cannot block its key for good.
    job_timeout_s: float = Field(300.0, gt=0)
    hold_max_attempts: int = 6  # fulfillment orders may appear a little after the order
    # How long a hold waits for fulfillment orders Shopify has not made yet (or, for a scheduled one, past its
    # fulfillAt) before the request says the hold failed; the wait spends no tries (bot/approvals/holds.py).
    hold_wait_s: float = 86400.0

    # Slack takes about one chat.postMessage a second per channel, with short bursts (bot/jobs/pacing.py);
    # 0 turns pacing off (a 429's Retry-After is still obeyed). One flood summary message sums up a backlog of
    # flood_threshold or more unposted requests in one channel (0: never), redrawn at most every flood_refresh_s.
    slack_post_rate: float = Field(1.0, ge=0)
    slack_post_burst: int = Field(3, ge=1)
    flood_threshold: int = Field(20, ge=0)
    flood_refresh_s: float = Field(5.0, ge=0)

    # Periodic jobs and reconciliation (bot/jobs/scheduler.py, bot/reconcile.py).
    run_scheduler: bool = True
    poll: bool = False  # no public URL: Shopify is read by reconciliation only, every poll_every_s
    poll_every_s: float = 30.0
    reconcile_every_s: float = 300.0
    reconcile_page_size: int = 10  # orders per page; each carries line items, so the query cost stays under 1,000
    reconcile_lookback_s: float = 86_400.0  # how far back the first pass reads a shop's orders
    # Orders created before this are history, never flagged (`holdfast serve --since 24h` sets it). None: the
    # shop's install time in this database, so a fresh database (a move to PostgreSQL, a start from another
    # directory) does not hold orders that were decided long ago.
    reconcile_since: datetime | None = Field(None, validation_alias=_env("RECONCILE_SINCE"))
    reconcile_decided_lookback_s: float = 172_800.0  # decisions this recent are checked for effects that never landed
    reconcile_grace_s: float = 300.0  # a decision's own jobs get this long before reconciliation steps in
    webhook_check_every_s: float = 3_600.0
    # Retention (storage/retention.py): finished jobs (a kind may keep its own, JobSpec.keep_finished_s), webhook
    # receipts (they dedupe Shopify's redeliveries, which go on for 48 hours after a failure:
    # https://shopify.dev/docs/apps/build/webhooks/troubleshooting-webhooks, so at least that), and periodic runs.
    # Audit events and requests are kept. The pass runs every prune_every_s, prune_batch rows per transaction.
    job_retention_s: float = Field(7 * 86_400.0, gt=0)
    receipt_retention_s: float = Field(72 * 3_600.0, ge=48 * 3_600.0)
    periodic_retention_s: float = Field(7 * 86_400.0, gt=0)
    prune_every_s: float = Field(3_600.0, gt=0)
    prune_batch: int = Field(1_000, ge=1)
    # Audit checkpoints (storage/checkpoints.py): the chain's head, signed, appended to this file and/or posted in
    # this Slack channel every audit_checkpoint_every_s; `holdfast audit verify --checkpoints FILE` checks them.
    audit_checkpoint_file: Path | None = Field(None, validation_alias=_env("AUDIT_CHECKPOINT_FILE"))
    audit_checkpoint_channel: str = Field("", validation_alias=_env("AUDIT_CHECKPOINT_CHANNEL"))
    audit_checkpoint_every_s: float = Field(3_600.0, gt=0)
    public_url: str = Field("", validation_alias=_env("PUBLIC_URL"))  # where Shopify sends webhooks
    # Shop-scoped subscriptions the hourly check keeps (own store and legacy shops; a shop installed through
    # /shopify/install has these from shopify.app.toml instead). APP_UNINSTALLED: its tokens are deleted at once.
    webhook_topics: str = ("ORDERS_CREATE,ORDERS_UPDATED,FULFILLMENT_ORDERS_ORDER_ROUTING_COMPLETE,"
                           "FULFILLMENT_ORDERS_SCHEDULED_FULFILLMENT_ORDER_READY,APP_UNINSTALLED")
    digest_hour_utc: int = Field(8, ge=0, le=23)

    def webhook_topic_list(self) -> list[str]:
        """The webhook topics the shop must be subscribed to."""
        return [t.strip() for t in self.webhook_topics.split(",") if t.strip()]
    # Reports: the SLA of a policy with neither timers.expire_after nor escalate_after (0: no SLA).
    sla_default_s: float = 86400.0

    def missing_for_serve(self) -> list[str]:
        """What `holdfast serve` cannot run without, one line each, saying where to get it."""
        need = [
            (self.slack_bot_token, "SLACK_BOT_TOKEN is not set: the Bot User OAuth Token (xoxb-…) from OAuth & Permissions"),
            (self.slack_signing_secret, "SLACK_SIGNING_SECRET is not set: the app's Signing Secret from Basic Information"),
        ]
        lines = [msg for value, msg in need if not value.get_secret_value()]
        if not self.webhook_secrets():
            lines.append("SHOPIFY_CLIENT_SECRET is not set: the app's client secret from the Dev Dashboard "
                         "(your app → Settings); it fetches tokens and signs webhooks")
        if self.shopify_client_secret.get_secret_value() and not self.shopify_client_id:
            lines.append("SHOPIFY_CLIENT_ID is not set: the app's client ID from the Dev Dashboard (your app → Settings)")
        if not self.shops() and not self.own_shops() and not (self.shopify_client_id and self.public_url):
            lines.append("no shop to serve: set SHOPIFY_SHOP=your-store.myshopify.com (your own store), or "
                         "HOLDFAST_PUBLIC_URL so other stores can install the app at /shopify/install")
        if not self.secret_key.get_secret_value().strip():
            lines.append(MISSING_KEY)
        return lines

    def previous_secret_keys(self) -> list[str]:
        """HOLDFAST_SECRET_KEY_PREVIOUS as a list (Fernet keys are url-safe base64: a comma never occurs in one)."""
        return [k.strip() for k in self.secret_key_previous.get_secret_value().split(",") if k.strip()]

    def webhook_secrets(self) -> list[str]:
        """Every secret a webhook may be signed with: the client secret, the legacy API secret, the previous one."""
        found = (self.shopify_client_secret, self.shopify_api_secret, self.shopify_api_secret_previous)
        return list(dict.fromkeys(s.get_secret_value() for s in found if s.get_secret_value()))

    def own_shops(self) -> list[str]:
        """SHOPIFY_SHOP: the stores served with the client credentials grant."""
        return [d.strip().lower() for d in self.shopify_shop.split(",") if d.strip()]

    def install_url(self, shop: str) -> str:
        """The link that installs the app on `shop` (the authorization code grant)."""
        base = self.public_url.rstrip("/") or "https://<HOLDFAST_PUBLIC_URL>"
        return f"{base}/shopify/install?shop={shop}"

    def shops(self) -> dict[str, str]:
        """Parse `shopify_shops` into {domain: access token}."""
        out: dict[str, str] = {}
        for pair in filter(None, (p.strip() for p in self.shopify_shops.get_secret_value().split(","))):
            domain, _, token = pair.partition("=")
            out[domain.strip()] = token.strip()
        return out

    def shipstation_keys(self) -> dict[str, str]:
        """Parse `shipstation_api_keys` into {shop domain: ShipStation API key} (domains lower-cased)."""
        out: dict[str, str] = {}
        for pair in filter(None, (p.strip() for p in self.shipstation_api_keys.get_secret_value().split(","))):
            domain, _, key = pair.partition("=")
            if domain.strip() and key.strip():
                out[domain.strip().lower()] = key.strip()
        return out
