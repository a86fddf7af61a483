"""What a Shopify call's failure means for the job that made it (bot/jobs/worker.py classifies these)."""

from __future__ import annotations


class ShopifyError(Exception):
    """A call that failed for good (bad query, auth); retrying will not help."""


class ShopifyTransientError(ShopifyError):
    """5xx, timeout or THROTTLED after our own retries: the job should try again later."""


class ShopifyAuthError(ShopifyError):
    """Shopify refused the shop's credentials, a freshly granted token included: the operator must act."""


class ShopUninstalled(ShopifyError):
    """The app is not installed on the shop (app/uninstalled): its jobs stop, without calling Shopify."""
