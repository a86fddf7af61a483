"""Reconciliation: what webhooks missed and what changed in Shopify outside holdfast."""
