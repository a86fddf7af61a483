"""Upkeep: the managers' daily digest and the webhook-subscription check."""
