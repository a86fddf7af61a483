"""The sandbox's fixed identities: a demo shop with holdfast's app installed, and a Slack workspace with the users,
channel and user group the example policies (holdfast.example.yml) name."""

from __future__ import annotations

from typing import Any

from bot.shopify.scopes import ACCESS_SCOPES
from sandbox.shipstation import ShipStationSandbox
from sandbox.shopify import ShopifySandbox
from sandbox.slack import SlackSandbox

SHOP = "demo-store.myshopify.com"
SHOP_TOKEN = "shpat_sandbox_token"  # a legacy static token (SHOPIFY_SHOPS) of the same app, for tests of that path
# holdfast's Dev Dashboard app: its client secret fetches tokens (client credentials) and signs its webhooks.
APP = "holdfast"
CLIENT_ID = "sandbox-holdfast-client-id"
CLIENT_SECRET = WEBHOOK_SECRET = "sandbox-shopify-app-secret"
BOT_TOKEN = "xoxb-sandbox-bot-token"
SIGNING_SECRET = "sandbox-slack-signing-secret"
TEAM = "T0HOLDFAST"
CHANNEL = "C0APPROVALS"
USERS = {"U0ANA": "Ana Approver", "U0BEN": "Ben Finance", "U0EVE": "Eve Stranger"}
# User groups the example policies name (b2b-net-terms: `groups: [S0FINANCE]`, two approvals): two members, so
# the policy can be met in the sandbox as written. A test replaces a group with slack.add_usergroup.
USERGROUPS = {"S0FINANCE": ["U0BEN", "U0ANA"]}
# The demo shop's ShipStation account (issue #20): its V2 API key, and warehouses the example policies name.
SHIPSTATION_KEY = "sandbox-shipstation-api-key"


def make_sandboxes(*, slack_rate_scale: float = 1.0) -> tuple[ShopifySandbox, SlackSandbox]:
    """A demo shop and a Slack workspace with three users, a finance group and an approvals channel holdfast was
    invited to.

    The bot token carries manifest.yml's scopes and Slack's rate tiers apply, `slack_rate_scale` times faster."""
    # Tokens carry exactly the access scopes holdfast declares (as a merchant grants them at install, README), so a
    # document that needs another one fails here as it would on a real shop. Standard plan: the smallest bucket.
    shopify = ShopifySandbox(scopes=ACCESS_SCOPES)
    shopify.add_shop(SHOP, access_token=SHOP_TOKEN, webhook_secret=WEBHOOK_SECRET, plan="standard", app=APP)
    # The merchant's own store: the app belongs to the store's organization and is installed from the Dev
    # Dashboard, so holdfast gets its tokens with the client credentials grant (README, "Your own store").
    shopify.register_app(CLIENT_ID, CLIENT_SECRET, name=APP, organization_shops=[SHOP])
    shopify.install_app(SHOP, CLIENT_ID)
    # holdfast's app is approved for protected customer data, level 1 and every level-2 field: a custom app has them
    # "always available" (https://shopify.dev/docs/apps/launch/protected-customer-data).
    # A test revokes them with shopify.grant_customer_data(APP, fields=()) or customer_data.pop(APP).
    shopify.grant_customer_data(APP)
    slack = SlackSandbox(bot_token=BOT_TOKEN, team_id=TEAM, bot_user_id="U0HOLDBOT", rate_scale=slack_rate_scale)
    for uid, name in USERS.items():
        slack.add_user(uid, name=name.split()[0].lower(), real_name=name)
    for group, members in USERGROUPS.items():
        slack.add_usergroup(group, members)
    slack.add_channel(CHANNEL, name="order-approvals", members=list(USERS))
    slack.invite(CHANNEL)  # the operator's `/invite @holdfast` (README, "The Slack app"); a test may slack.remove it
    return shopify, slack


def make_shipstation(shopify: ShopifySandbox, **options: Any) -> ShipStationSandbox:
    """The demo shop's ShipStation account ("Main warehouse", the default, and "Samples room"), importing the
    orders placed in `shopify` after `import_delay_s` (options: ShipStationSandbox's keywords)."""
    shipstation = ShipStationSandbox(**options)
    shipstation.add_account(SHOP, api_key=SHIPSTATION_KEY)
    shipstation.link(shopify)
    return shipstation
