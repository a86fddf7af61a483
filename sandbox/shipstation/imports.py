"""How a Shopify order becomes a ShipStation shipment when ShipStation imports the store's orders.

In the V2 API an imported "order" is a shipment: orderNumber becomes shipment_number and orderKey becomes
external_shipment_id (https://docs.shipstation.com/orders/understanding-orders-shipments.md). What the Shopify
integration puts in them is not documented: shipment_number is the Shopify order number without its "#" ("1001"
for "#1001") and external_shipment_id the Shopify order's numeric id, so a client matching on the order name as
Shopify writes it ("#1001") finds nothing; the harsher reading.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .records import Account, Address, Shipment

if TYPE_CHECKING:
    from sandbox.shopify.state import Order

    from .state import ShipStationSandbox


def importable(order: Order) -> bool:
    """Whether ShipStation would import it: something to ship, and not cancelled."""
    return order.cancelled_at is None and any(li.requires_shipping for li in order.line_items)


def ship_to(order: Order) -> dict[str, Any]:
    a = order.shipping_address
    if a is None:  # no address: ShipStation imports the order with an empty one (it cannot be labelled)
        return Address(name=order.customer.display_name if order.customer else "").to_json()
    return Address(name=a.name, company_name=a.company, phone=a.phone or "", address_line1=a.address1 or "",
                   address_line2=a.address2, city_locality=a.city or "", state_province=a.province_code or "",
                   postal_code=a.zip or "", country_code=a.country_code or "US").to_json()


def items(order: Order) -> list[dict[str, Any]]:
    return [{"sales_order_id": None, "sales_order_item_id": None, "quantity": li.quantity, "name": li.name,
             "sku": li.sku, "external_order_id": str(order.legacy_id), "external_order_item_id": str(li.legacy_id),
             "asin": None, "order_source_code": "shopify"}
            for li in order.line_items if li.requires_shipping]


def shipment_from_order(sb: ShipStationSandbox, account: Account, order: Order) -> Shipment:
    """The shipment ShipStation creates for an imported order: pending, shipping from the default warehouse."""
    warehouse = account.default_warehouse
    now = sb.now()
    return Shipment(
        shipment_id=sb.next_id(), account=account.shop, shipment_number=str(order.number),
        external_shipment_id=str(order.legacy_id), order_gid=order.gid, order_name=order.name,
        created_at=now, modified_at=now, ship_to=ship_to(order), ship_from=warehouse.origin_address.to_json(),
        warehouse_id=warehouse.warehouse_id, items=items(order), store_id=account.store_id,
    )
