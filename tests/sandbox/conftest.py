"""The sandbox tests' shared fixtures: a hand-moved clock, and a test client over real HTTP for the module's own
`sb` sandbox."""

import pytest
from aiohttp.test_utils import TestClient, TestServer

from sandbox.shopify import ShopifySandbox


class FakeClock:
    """The sandbox's monotonic clock, moved by hand (`clock.t += seconds`)."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def client(sb: ShopifySandbox):
    async with TestClient(TestServer(sb.make_app())) as c:
        yield c
