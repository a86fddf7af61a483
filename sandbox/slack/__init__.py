"""In-memory stand-in for Slack's Web API, speaking its real HTTP protocol."""

from .core import SlackSandbox
from .faults import Fault, FaultPlan
from .state import Message, SlackError

__all__ = ["SlackSandbox", "Message", "SlackError", "Fault", "FaultPlan"]
