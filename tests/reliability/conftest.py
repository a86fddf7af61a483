"""Reliability tests: real processes (kill -9, restart), injected faults, several workers on one database.

HOLDFAST_RELIABILITY_HEAVY=1 runs the heavier variants (more orders, more kills, longer fault runs)."""

from __future__ import annotations

import os

import pytest

from tests.reliability.procs import Procs

HEAVY = os.environ.get("HOLDFAST_RELIABILITY_HEAVY", "") not in ("", "0")


@pytest.fixture
async def procs(database_url, tmp_path):
    p = Procs(database_url, tmp_path)
    try:
        await p.start()
        yield p
    finally:
        await p.stop()
