"""Every feature's job specs, in one registry: what the worker runs (bot/jobs/worker.py reads only this)."""

from __future__ import annotations

from bot.features.flood.jobs import JOBS as FLOOD
from bot.features.home.jobs import JOBS as HOME
from bot.features.install.jobs import JOBS as INSTALL
from bot.features.internal_orders.jobs import JOBS as INTERNAL_ORDERS
from bot.features.privacy.jobs import JOBS as PRIVACY
from bot.features.reconcile.jobs import JOBS as RECONCILE
from bot.features.reporting.jobs import JOBS as REPORTING
from bot.features.requests.jobs import JOBS as REQUESTS
from bot.features.shipstation.jobs import JOBS as SHIPSTATION
from bot.features.timers.jobs import JOBS as TIMERS
from bot.features.upkeep.jobs import JOBS as UPKEEP
from bot.jobs.registry import Registry

FEATURES = {"requests": REQUESTS, "timers": TIMERS, "internal_orders": INTERNAL_ORDERS, "flood": FLOOD,
            "reporting": REPORTING, "home": HOME, "reconcile": RECONCILE, "upkeep": UPKEEP, "privacy": PRIVACY,
            "install": INSTALL, "shipstation": SHIPSTATION}


def registry() -> Registry:
    """A registry of every job kind holdfast runs (a kind declared twice is refused)."""
    return Registry(spec for specs in FEATURES.values() for spec in specs)
