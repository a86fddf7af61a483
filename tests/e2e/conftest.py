import pytest

from bot.cli.devstack import DevStack


@pytest.fixture
async def stack(database_url):
    """The bot over real HTTP against sandbox Shopify and Slack, with a fresh database."""
    async with DevStack(database_url=database_url) as s:
        yield s


STAFF = dict(
    line_items=[{"title": "Hoodie", "sku": "HOOD-M", "quantity": 1, "price": "60.00"},
                {"title": "Mug", "sku": "MUG-1", "quantity": 2, "price": "12.00"}],
    customer={"email": "sam@staff.example", "first_name": "Sam", "last_name": "Staff", "tags": ["staff"]},
    fulfillment_orders=2,
)
ORDINARY = dict(
    line_items=[{"title": "Mug", "sku": "MUG-1", "quantity": 1, "price": "12.00"}],
    customer={"email": "joe@example.com", "first_name": "Joe", "last_name": "Buyer", "tags": []},
)
