"""manifest.yml's bot scopes are exactly those of the Slack methods holdfast calls, by Slack's method reference.

The methods are found in the source (every slack_sdk WebClient call in bot/ and handlers/); their scopes come
from sandbox/slack/reference.py, one row per method written from its docs.slack.dev page (URL in the row), the
same table the sandbox enforces. A method holdfast calls that the table lacks, a scope the manifest misses, and a
scope nothing needs all fail here.
"""

from __future__ import annotations

import ast
import inspect
import re
from functools import cache

import yaml
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack.reference import METHODS, scopes_for
from tests.conftest import ROOT_DIR

# The Conversations API's scopes depend on the kind of conversation (reference.py): where holdfast calls each.
WHERE = {
    # find_message before a retried post (bot/jobs/slack_calls.py): policy channels, public or private, and DMs
    # (post_once sends DMs: requesters, delegates, reminders, the daily digest).
    "conversations.history": {"public", "private", "im"},
    "conversations.replies": {"public", "private"},  # find_message in a request's thread (thread notices)
    "conversations.info": {"public", "private"},  # policy channels: start-up check, `holdfast check --online`
    "conversations.open": {"im"},  # a DM with one user
}
# Scopes a feature of the manifest needs rather than a method: "commands: Add shortcuts and slash commands that
# people can use" (https://docs.slack.dev/reference/scopes/commands).
FEATURE_SCOPES = {"slash_commands": "commands", "shortcuts": "commands"}


@cache
def client_methods() -> dict[str, set[str]]:
    """slack_sdk's AsyncWebClient: Python method name -> the Web API methods it calls (files_upload_v2: two)."""
    direct: dict[str, tuple[list[str], list[str]]] = {}
    for name, fn in inspect.getmembers(AsyncWebClient, inspect.isfunction):
        if name.startswith("_") or name == "api_call":
            continue
        source = inspect.getsource(fn)
        direct[name] = (re.findall(r'api_call\(\s*"([\w.]+)"', source), re.findall(r"self\.(\w+)\(", source))

    def reach(name: str, seen: frozenset[str] = frozenset()) -> set[str]:
        apis, inner = direct.get(name, ([], []))
        return set(apis).union(*(reach(n, seen | {name}) for n in inner if n in direct and n not in seen))

    return {name: reach(name) for name in direct}


def calls_in_source() -> dict[str, list[str]]:
    """Web API method -> where holdfast calls it (file:line): every `x.chat_postMessage` in the source, called
    there or handed on (`_ask(slack.users_info, user=u)`)."""
    known = client_methods()
    found: dict[str, list[str]] = {}
    for package in ("bot", "handlers"):
        for path in sorted((ROOT_DIR / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Attribute) and node.attr in known:
                    for api in known[node.attr]:
                        found.setdefault(api, []).append(f"{path.relative_to(ROOT_DIR)}:{node.lineno}")
    return found


def manifest() -> dict:
    return yaml.safe_load((ROOT_DIR / "manifest.yml").read_text(encoding="utf-8"))


def needed_scopes(called: set[str], features: dict) -> set[str]:
    """The bot scopes the called methods need (where they are called) plus those the manifest's features need."""
    needed = {s for feature, s in FEATURE_SCOPES.items() if features.get(feature)}
    for method in called:
        row = METHODS[method]
        if not row.app_token:  # apps.connections.open: the app-level token's connections:write, not a bot scope
            needed |= scopes_for(method, WHERE.get(method) if row.by_kind else None)
    return needed


def gaps(declared: list[str], needed: set[str]) -> list[str]:
    """What is wrong with a declared scope list, one line each (empty: exactly right)."""
    return ([f"missing {s}" for s in sorted(needed - set(declared))]
            + [f"{s} is asked for but no method holdfast calls needs it" for s in sorted(set(declared) - needed)]
            + [f"{s} is listed twice" for s in sorted({s for s in declared if declared.count(s) > 1})])


def test_the_scan_sees_holdfasts_slack_calls():
    found = calls_in_source()
    assert client_methods()["files_upload_v2"] == {"files.getUploadURLExternal", "files.completeUploadExternal"}
    for method in ("chat.postMessage", "chat.update", "conversations.history", "conversations.open", "auth.test",
                   "usergroups.users.list", "views.publish", "files.completeUploadExternal", "conversations.info"):
        assert method in found, method
    assert any(where.startswith("bot/jobs/slack_calls.py") for where in found["conversations.history"])


def test_every_method_holdfast_calls_is_in_slacks_reference():
    unknown = {m: where for m, where in calls_in_source().items() if m not in METHODS}
    assert not unknown, ("add these to sandbox/slack/reference.py from their docs.slack.dev page "
                         f"(https://docs.slack.dev/reference/methods/<method>): {unknown}")
    assert all(row.doc == f"https://docs.slack.dev/reference/methods/{name}" for name, row in METHODS.items())


def test_each_conversation_method_says_where_it_is_called():
    by_kind = {m for m in calls_in_source() if METHODS[m].by_kind}
    assert by_kind == set(WHERE), "say in WHERE on which kinds of conversation holdfast calls each of these"


def test_manifest_bot_scopes_are_exactly_what_holdfast_calls_need():
    app = manifest()
    needed = needed_scopes(set(calls_in_source()), app.get("features") or {})
    assert gaps(app["oauth_config"]["scopes"]["bot"], needed) == []


def test_a_missing_or_unneeded_scope_is_caught():
    app = manifest()
    needed = needed_scopes(set(calls_in_source()), app.get("features") or {})
    declared = [s for s in app["oauth_config"]["scopes"]["bot"] if s != "im:history"] + ["chat:write.public"]
    assert gaps(declared, needed) == ["missing im:history",
                                      "chat:write.public is asked for but no method holdfast calls needs it"]
