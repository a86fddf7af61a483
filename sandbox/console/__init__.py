"""The sandbox console: a browser page, served on the control API's port, that draws the sandbox's Slack and Shopify
and acts through the simulator (signed requests, as a real workspace sends them)."""

from sandbox.console.server import add_console

__all__ = ["add_console"]
