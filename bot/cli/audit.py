"""`holdfast audit export`: decisions (as in `/approvals audit`) or raw audit rows, as CSV or JSON lines."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TextIO

from bot.approvals.policies import PolicyError
from bot.features.reporting.service import load_outcomes, sla_setting
from bot.policy_file import load_file
from bot.reports import export as fmt
from bot.reports.query import Query, Sub
from bot.settings import Settings
from storage import reports as store
from storage.db import make_engine, make_sessionmaker

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
BATCH = 2000


async def export(settings: Settings, out: TextIO, *, since: datetime | None, until: datetime, form: str,
                 events: bool) -> int:
    """Write the export to `out`; returns how many records were written."""
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            if events:
                return await _events(session, out, since=since, until=until, form=form)
            try:
                policies = load_file(settings.config_path)
            except PolicyError:
                policies = None  # SLAs then come from the default setting alone
            query = Query(sub=Sub.AUDIT, since=since or EPOCH, until=until)
            found = await load_outcomes(session, query, policies=policies,
                                        default=sla_setting(settings.sla_default_s))
            out.write(fmt.outcomes_csv(found) if form == "csv" else fmt.outcomes_jsonl(found))
            return len(found)
    finally:
        await engine.dispose()


async def _events(session, out: TextIO, *, since: datetime | None, until: datetime, form: str) -> int:
    # Batches in chain order: a million rows never sit in memory at once.
    count, after, first = 0, 0, True
    while True:
        rows = await store.events_between(session, since=since, until=until, after_id=after, limit=BATCH)
        if not rows and not (first and form == "csv"):
            return count
        out.write(fmt.events_csv(rows, header=first) if form == "csv" else fmt.events_jsonl(rows))
        if not rows:
            return count
        first, count, after = False, count + len(rows), rows[-1].id
