"""`holdfast check --online`: the policy file against the Slack workspace (bot/slack_preflight.py)."""

from __future__ import annotations

import asyncio
import re
import sys

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.approvals.policies import PolicySet
from bot.cli.online_shipstation import check_shipstation
from bot.settings import Settings
from bot.slack_preflight import Problem, channel_problems, channels_of, people_of, people_problems

_SLACK_ID = re.compile(r"^(?:channel|user group|user) (\S+)")  # how slack_preflight.Problem.where names its id

TOKEN_UNSET = "SLACK_BOT_TOKEN is not set"
TOKEN_UNSET_FIX = "export the bot token (xoxb-…) from OAuth & Permissions"
TOKEN_FIX = "use the Bot User OAuth Token (xoxb-…) of the installed app"


def slack_client(settings: Settings, http: aiohttp.ClientSession) -> AsyncWebClient:
    """A Web API client on the bot token, without client-side retries (a 429 is waited out by the checks)."""
    return AsyncWebClient(token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url,
                          session=http, timeout=int(settings.slack_timeout_s), retry_handlers=[])


async def auth_test(slack: AsyncWebClient) -> tuple[AsyncSlackResponse | None, str | None]:
    """auth.test: (Slack's answer, None) for a valid token, else (None, the error Slack gave)."""
    try:
        return await slack.auth_test(), None
    except SlackApiError as exc:
        return None, str(exc.response.get("error"))


async def online_problems(settings: Settings, policies: PolicySet) -> list[str]:
    """One line per problem with its fix: the token, then every policy channel, user and user group."""
    if not settings.slack_bot_token.get_secret_value():
        return [f"{TOKEN_UNSET}. Fix: {TOKEN_UNSET_FIX}"]
    async with aiohttp.ClientSession() as http:
        slack = slack_client(settings, http)
        _, error = await auth_test(slack)
        if error is not None:
            return [f"SLACK_BOT_TOKEN: Slack said {error}. Fix: {TOKEN_FIX}"]
        problems = await channel_problems(slack, policies) + await people_problems(slack, policies)
    return [located(policies, p) for p in problems]


def located(policies: PolicySet, problem: Problem) -> str:
    """The problem's line, led by `file:line:col` of where its channel, user or group id is first written."""
    found = _SLACK_ID.match(problem.where)
    where = policies.where(found[1]) if found else None
    return f"{where}: {problem.line()}" if where else problem.line()


def check_online(settings: Settings, policies: PolicySet) -> int:
    """Print the problems (stderr) or a summary (stdout); 1 when there is any problem or Slack cannot be asked.
    Then the same for ShipStation, when a policy has `shipstation:` (check_shipstation)."""
    slack = _check_slack(settings, policies)
    return check_shipstation(settings, policies) or slack


def _check_slack(settings: Settings, policies: PolicySet) -> int:
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
