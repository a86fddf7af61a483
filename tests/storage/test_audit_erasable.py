"""The audit chain with an erasable part per row (storage/audit.py): erasing keeps the chain verifiable, an edit
anywhere is still found, and rows written before migration 0008 verify beside the new ones."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, text, update

from storage import audit
from storage.db import make_engine, make_sessionmaker, migrate, transaction
from storage.models import AuditEvent

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def _append(sessions, i: int, **extra) -> None:
    async with transaction(sessions) as s:
        await audit.append(s, at=T0 + timedelta(seconds=i), actor="U0ANA", kind="vote.recorded", request_id=i,
                           shop_domain="shop.myshopify.com", data={"vote": "approve", "n": i}, **extra)


async def _rows(sessions):
    async with sessions() as s:
        return [r async for r in audit.iterate(s)]


async def _verify(sessions) -> audit.Verification:
    async with sessions() as s:
        return await audit.verify(s)


async def _sql(sessions, statement: str, **params) -> None:
    async with transaction(sessions) as s:
        await s.exec(text(statement).bindparams(**params))


async def test_personal_data_is_kept_apart_salted_and_erasable(sessions):
    for i in range(4):
        await _append(sessions, i, personal={"fields": {"note": "Jane Doe called"}} if i % 2 else None)
    rows = await _rows(sessions)
    plain, personal = rows[0], rows[1]
    assert plain.personal is None and plain.personal_digest is None  # nothing personal: the old form, unchanged
    assert plain.hash == audit.compute_hash(audit.GENESIS, at=plain.at, shop_domain=plain.shop_domain,
                                            request_id=0, actor="U0ANA", kind="vote.recorded", data=plain.data)
    assert "Jane" not in json.dumps(personal.data) and audit.content(personal)["fields"] == {"note": "Jane Doe called"}
    # Salted per row: the same values give another digest, and the bare values' hash is not the digest.
    assert rows[1].personal["salt"] != rows[3].personal["salt"] and rows[1].personal_digest != rows[3].personal_digest
    bare = hashlib.sha256(json.dumps({"fields": {"note": "Jane Doe called"}}).encode()).hexdigest()
    assert personal.personal_digest != bare

    async with transaction(sessions) as s:
        assert await audit.erase(s, request_ids=[1, 2]) == 1  # row 2 had nothing to erase
        assert await audit.erase(s, request_ids=[1]) == 0  # erasing again changes nothing
    erased = (await _rows(sessions))[1]
    assert erased.personal is None and erased.personal_digest == personal.personal_digest
    assert audit.content(erased) == erased.data
    result = await _verify(sessions)
    assert result.ok and result.count == 4 and result.erased == 1


FORGED = {"salt": "00", "values": {"fields": {"note": "other"}}}


@pytest.mark.parametrize("row, values, problem", [
    # Another value in a part that is still there: its digest no longer matches.
    (2, {"personal": FORGED}, "personal data does not match"),
    # A part put back, or made up, on a row that had none: no digest to match.
    (1, {"personal": FORGED}, "personal data does not match"),
    # Edited values with their own digest, consistent with each other: the row's hash covers the digest.
    (2, {"personal": FORGED, "personal_digest": audit.digest_of(FORGED)}, "content does not match"),
    # The digest dropped (to make the row look like one without personal data): the hash covered it.
    (2, {"personal": None, "personal_digest": None}, "content does not match"),
])
async def test_an_edit_of_the_erasable_part_is_found(sessions, row, values, problem):
    for i in range(3):
        await _append(sessions, i, personal={"fields": {"note": f"n{i}"}} if i == 1 else None)
    async with transaction(sessions) as s:  # through the table's types, as a hand with database access would
        await s.exec(update(AuditEvent.__table__).where(AuditEvent.__table__.c.id == row).values(**values))
    result = await _verify(sessions)
    assert not result.ok and problem in result.problem and result.broken_id == row


async def test_rows_of_before_the_erasable_part_verify_beside_new_ones(database_url):
    """A database migrated to 0007 gets rows the way holdfast wrote them then; after 0008 new rows chain on."""
    engine = make_engine(database_url)
    await migrate(engine, "0007")
    prev = audit.GENESIS
    async with engine.begin() as conn:
        for i in range(3):
            at, data = T0 + timedelta(seconds=i), {"vote": "approve", "fields": {"note": f"old {i}"}}
            digest = audit.compute_hash(prev, at=at, shop_domain="s", request_id=i, actor="U0ANA", kind="old",
                                        data=data)
            # Only the columns revision 0007 has (the table's types, so values are stored as holdfast stored them).
            await conn.execute(insert(AuditEvent.__table__).values(
                at=at, shop_domain="s", request_id=i, actor="U0ANA", kind="old", data=data, prev_hash=prev,
                hash=digest))
            prev = digest
    await migrate(engine)
    sessions = make_sessionmaker(engine)
    for i in range(3, 5):
        await _append(sessions, i, personal={"fields": {"note": f"new {i}"}})
    async with transaction(sessions) as s:
        assert await audit.erase(s, request_ids=range(5)) == 2  # only the new rows have an erasable part
    result = await _verify(sessions)
    assert result.ok and result.count == 5 and result.erased == 2
    await _sql(sessions, "UPDATE audit_event SET actor = 'U0EVE' WHERE id = 2")  # an old row is still guarded
    result = await _verify(sessions)
    assert not result.ok and result.broken_id == 2
    await engine.dispose()
