"""Internal orders: /order-request, its draft order in Shopify, and the requester's DM."""
