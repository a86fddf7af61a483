"""`holdfast check --online`: the policy file against the Slack workspace (bot/slack_preflight.py)."""

from __future__ import annotations

import asyncio
import sys

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.approvals.policies import PolicySet
from bot.settings import Settings
from bot.slack_preflight import channel_problems, channels_of, people_of, people_problems


async def online_problems(settings: Settings, policies: PolicySet) -> list[str]:
    """One line per problem with its fix: the token, then every policy channel, user and user group."""
    token = settings.slack_bot_token.get_secret_value()
    if not token:
        return ["SLACK_BOT_TOKEN is not set. Fix: export the bot token (xoxb-…) from OAuth & Permissions"]
    async with aiohttp.ClientSession() as http:
        slack = AsyncWebClient(token=token, base_url=settings.slack_api_url, session=http,
                               timeout=int(settings.slack_timeout_s), retry_handlers=[])
        try:
            await slack.auth_test()
        except SlackApiError as exc:
            return [(f"SLACK_BOT_TOKEN: Slack said {exc.response.get('error')}. Fix: use the Bot User OAuth Token "
                     "(xoxb-…) of the installed app")]
        problems = await channel_problems(slack, policies) + await people_problems(slack, policies)
    return [p.line() for p in problems]


def check_online(settings: Settings, policies: PolicySet) -> int:
    """Print the problems (stderr) or a summary (stdout); 1 when there is any problem or Slack cannot be asked."""
    try:
        lines = asyncio.run(online_problems(settings, policies))
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        print(f"cannot reach Slack at {settings.slack_api_url}: {type(exc).__name__} {exc}".rstrip(), file=sys.stderr)
        return 1
    for line in lines:
        print(line, file=sys.stderr)
    if lines:
        print(f"{len(lines)} Slack problem(s); fix them and run `holdfast check --online` again.", file=sys.stderr)
        return 1
    users, groups = people_of(policies)
    print(f"Slack: holdfast is in all {len(channels_of(policies))} policy channel(s); "
          f"{len(users)} user(s) and {len(groups)} user group(s) found")
    return 0
