"""ShipStation (issue #20): the V2 API client, its request budget, and each shop's account."""
