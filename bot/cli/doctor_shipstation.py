"""`holdfast doctor`, ShipStation's part: only when an enabled policy has a `shipstation:` block. The same questions
as `holdfast check --online` (bot/cli/online_shipstation.py): each shop's key opens its account, and the warehouses
the policies name exist there; tags it lacks are created on first use, so they are warnings."""

from __future__ import annotations

import aiohttp

from bot.approvals.policies import PolicySet
from bot.cli.doctor_checks import Check, failed, passed, split_sentence, warned
from bot.cli.online_shipstation import shipstation_findings
from bot.settings import Settings

GROUP = "ShipStation"


async def shipstation_checks(settings: Settings, policies: PolicySet | None) -> list[Check]:
    """Nothing without a policy that uses ShipStation; else one line per problem or warning, or one ok line."""
    if policies is None or not any(p.shipstation is not None and p.enabled for p in policies.policies):
        return []
    try:
        problems, warnings, asked = await shipstation_findings(settings, policies)
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        return [failed(GROUP, "API", f"cannot reach {settings.shipstation_api_url} ({type(exc).__name__})",
                       "check HOLDFAST_SHIPSTATION_API_URL and the network")]
    if not asked:
        return [warned(GROUP, "keys", "no shop has a ShipStation API key, so the policies' shipstation: blocks do "
                                      "nothing yet", "`holdfast shipstation key --shop your-store.myshopify.com`")]
    checks = []
    for problem in problems:
        what, fix = problem.split(". Fix: ", 1) if ". Fix: " in problem else split_sentence(problem)
        checks.append(failed(GROUP, "account", what, fix))
    checks += [warned(GROUP, "tags", w.split("warning: ", 1)[-1]) for w in warnings]
    if not problems:
        checks.insert(0, passed(GROUP, "accounts", f"{asked} shop(s) with a key; every warehouse the policies name "
                                                   "exists"))
    return checks
