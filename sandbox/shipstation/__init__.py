"""A ShipStation V2 API stand-in: accounts that import a sandbox Shopify shop's orders as shipments."""

from .records import Account, Shipment, Warehouse
from .state import ShipStationSandbox

__all__ = ["Account", "ShipStationSandbox", "Shipment", "Warehouse"]
