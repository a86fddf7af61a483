"""ShipStation (issue #20): hold a flagged order's shipment until it is decided, then route it as the policy says."""
