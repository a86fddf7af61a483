"""The sandbox tests' shared fixture: a test client over real HTTP for the module's own `sb` sandbox."""

import pytest
from aiohttp.test_utils import TestClient, TestServer

from sandbox.shopify import ShopifySandbox


@pytest.fixture
async def client(sb: ShopifySandbox):
    async with TestClient(TestServer(sb.make_app())) as c:
        yield c
