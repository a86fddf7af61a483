"""An in-memory stand-in for Shopify's Admin GraphQL API (2026-10, served for every supported version) over HTTP."""

from .control import ShopifySandbox
from .faults import Fault, Faults
from .schema import API_VERSION, SDL, build_sandbox_schema
from .state import Customer, FulfillmentOrder, Hold, Order

__all__ = [
    "API_VERSION",
    "SDL",
    "Customer",
    "Fault",
    "Faults",
    "FulfillmentOrder",
    "Hold",
    "Order",
    "ShopifySandbox",
    "build_sandbox_schema",
]
