"""Fixtures of the storage tests."""

import pytest

from storage.db import make_engine, make_sessionmaker, migrate


@pytest.fixture
async def sessions(database_url):
    """A session factory on a freshly migrated database."""
    engine = make_engine(database_url)
    await migrate(engine)
    yield make_sessionmaker(engine)
    await engine.dispose()
