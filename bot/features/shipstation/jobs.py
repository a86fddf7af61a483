"""The ShipStation feature's job kinds (issue #20): hold a flagged order's shipment, apply the decision, and the
periodic pass that re-queues what did not land.

All three are wrapped in slack_calls.deferrable: a ShipStation 429 (`Deferred`, bot/features/shipstation/service.py)
sends the job back to the queue for its Retry-After without spending an attempt, the same way a Slack 429 does.
Safe for these executors because each reads the shipment first and acts only on the difference.
"""

from __future__ import annotations

from bot.approvals.effects import JobKind
from bot.features.shipstation import executors, reconcile
from bot.jobs.registry import JobSpec
from bot.jobs.slack_calls import deferrable

JOBS = (
    JobSpec(JobKind.SHIPSTATION_FLAG, deferrable(executors.flag), on_dead=executors.flag_dead),
    JobSpec(JobKind.SHIPSTATION_DECIDE, deferrable(executors.decide), on_dead=executors.decide_dead),
    # One call per tracked shipment: a long backlog takes a while, but not for ever.
    JobSpec(JobKind.SHIPSTATION_RECONCILE, deferrable(reconcile.run_pass), timeout_s=900.0),
)
