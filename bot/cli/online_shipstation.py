"""`holdfast check --online`, ShipStation's part: the warehouses and tags the policies' `shipstation:` blocks name,
against each shop's ShipStation account (GET /v2/warehouses, GET /v2/tags).

An unknown warehouse is a problem (the approval could not route the order); an unknown tag only a warning:
ShipStation creates a tag the first time a shipment is tagged with it (https://docs.shipstation.com/tag-shipments),
so a new one may be meant, but a typo would be created just as silently.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass

import aiohttp

from bot.approvals.policies import PolicySet
from bot.settings import Settings
from bot.shipstation.client import ShipStationClient
from bot.shipstation.errors import ShipStationAuthError, ShipStationProblem
from storage.secrets import SecretKeyError


@dataclass(frozen=True)
class Findings:
    """One shop's lines: problems (exit 1) and warnings."""

    problems: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def _at(policies: PolicySet, text: str) -> str:
    where = policies.where(text)
    return f"{where}: " if where else ""


def findings(policies: PolicySet, *, shop: str, warehouses: list[str], tags: list[str]) -> Findings:
    """What the shop's account lacks of what the enabled policies name (pure: the lists are ShipStation's)."""
    known_w = {w.casefold(): w for w in warehouses}
    known_t = set(tags)
    problems, warnings = [], []
    for p in policies.policies:
        rules = p.shipstation
        if rules is None or not p.enabled:
            continue
        name = rules.on_approve.warehouse
        if name and name.casefold() not in known_w:
            listed = ", ".join(f'"{w}"' for w in warehouses) or "none"
            problems.append(f'{_at(policies, name)}policy {p.id}: ShipStation of {shop} has no warehouse named '
                            f'"{name}" (it has {listed}). Fix: write one of those names, or add it in ShipStation')
        for tag in (*rules.on_flag.tags, *rules.on_approve.tags, *rules.on_reject.tags):
            if tag not in known_t:
                warnings.append(f"{_at(policies, tag)}warning: policy {p.id}: ShipStation of {shop} has no tag "
                                f'"{tag}" yet; it is created when first used (check the spelling)')
    return Findings(tuple(problems), tuple(dict.fromkeys(warnings)))


async def stored_keys(settings: Settings) -> dict[str, str]:
    """The keys stored in the database (`holdfast shipstation key`), opened; {} when the database cannot tell.
    SecretKeyError (one sentence naming the settings) when no configured key opens one."""
    from bot.app import keyring
    from storage import shipstation
    from storage.db import make_engine, make_sessionmaker

    engine = make_engine(settings.database_url)
    try:
        keys, found = keyring(settings), {}
        async with make_sessionmaker(engine)() as session:
            for shop in await shipstation.shops_with_keys(session):
                sealed = await shipstation.key_for(session, shop=shop)
                if sealed:
                    found[shop] = keys.open(sealed, what=f"the ShipStation API key of {shop}").value
        return found
    except SecretKeyError:
        raise
    except Exception:  # noqa: BLE001 - an unmigrated or unreachable database: the environment's keys still count
        return {}
    finally:
        await engine.dispose()


async def shipstation_findings(settings: Settings, policies: PolicySet) -> tuple[list[str], list[str], int]:
    """(problems, warnings, shops asked) over every shop with a ShipStation key."""
    problems: list[str] = []
    try:
        stored = await stored_keys(settings)
    except SecretKeyError as exc:
        stored, problems = {}, [str(exc)]
    keys = {**stored, **settings.shipstation_keys()}  # the environment's win, as at start
    warnings: list[str] = []
    async with aiohttp.ClientSession() as http:
        for shop, key in sorted(keys.items()):
            client = ShipStationClient(settings.shipstation_api_url, key, http, timeout_s=settings.shipstation_timeout_s)
            try:
                found = findings(policies, shop=shop, warehouses=[w.name for w in await client.warehouses()],
                                 tags=await client.tags())
            except ShipStationAuthError as exc:
                problems.append(f"ShipStation refused the API key of {shop} ({exc.status}). Fix: set a valid key "
                                f"with `holdfast shipstation key --shop {shop}` (or SHIPSTATION_API_KEYS)")
                continue
            except ShipStationProblem as exc:
                problems.append(f"ShipStation of {shop} could not be asked: {exc.message}")
                continue
            problems += found.problems
            warnings += found.warnings
    return problems, warnings, len(keys)


def check_shipstation(settings: Settings, policies: PolicySet) -> int:
    """Print ShipStation's problems and warnings (stderr) or a summary (stdout); 1 when there is a problem.
    Nothing at all when no policy has `shipstation:`."""
    if not any(p.shipstation is not None and p.enabled for p in policies.policies):
        return 0
    try:
        problems, warnings, asked = asyncio.run(shipstation_findings(settings, policies))
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        print(f"cannot reach ShipStation at {settings.shipstation_api_url}: {type(exc).__name__}", file=sys.stderr)
        return 1
    for line in (*problems, *warnings):
        print(line, file=sys.stderr)
    if not asked:
        print("ShipStation: no shop has a key, so the policies' shipstation: blocks do nothing yet (set one with "
              "`holdfast shipstation key --shop X`)")
        return 0
    if problems:
        print(f"{len(problems)} ShipStation problem(s); fix them and run `holdfast check --online` again.",
              file=sys.stderr)
        return 1
    print(f"ShipStation: every warehouse the policies name exists in the {asked} shop(s) with a key")
    return 0
