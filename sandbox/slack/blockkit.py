"""Block Kit limit checks (pure): Slack's documented limits, reported the way Slack reports them.

Each check returns a list of problems such as
"must be less than 3001 characters [json-pointer:/blocks/0/text/text]"; the server
answers `invalid_blocks` (messages) or `invalid_arguments` (views) with them.
"""

from __future__ import annotations

from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40000

BLOCK_TYPES = {"section", "header", "divider", "context", "actions", "input", "image", "rich_text",
               "file", "video", "markdown", "context_actions", "table", "call"}
TEXT_TYPES = {"plain_text", "mrkdwn"}
INTERACTIVE = {"button", "checkboxes", "datepicker", "datetimepicker", "timepicker", "overflow",
               "radio_buttons", "static_select", "external_select", "users_select", "conversations_select",
               "channels_select", "multi_static_select", "multi_external_select", "multi_users_select",
               "multi_conversations_select", "multi_channels_select", "plain_text_input", "email_text_input",
               "url_text_input", "number_input", "rich_text_input", "file_input", "workflow_button",
               "feedback_buttons", "icon_button"}
SELECTS_WITH_OPTIONS = {"static_select", "multi_static_select", "checkboxes", "radio_buttons", "overflow"}


class _Checker:
    """Walks blocks, collecting problems with their json-pointer."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, pointer: str, what: str) -> None:
        self.problems.append(f"{what} [json-pointer:{pointer}]")

    def max_len(self, value: Any, limit: int, pointer: str) -> None:
        if isinstance(value, str) and len(value) > limit:
            self.fail(pointer, f"must be less than {limit + 1} characters")

    def max_items(self, items: Any, limit: int, pointer: str, minimum: int = 1) -> list:
        if not isinstance(items, list):
            self.fail(pointer, "must be an array")
            return []
        if len(items) > limit:
            self.fail(pointer, f"no more than {limit} items allowed")
        elif len(items) < minimum:
            self.fail(pointer, f"must provide at least {minimum} items")
        return items

    def text(self, obj: Any, limit: int, pointer: str, *, plain_only: bool = False, required: bool = True) -> None:
        if obj is None:
            if required:
                self.fail(pointer, "must provide an object")
            return
        if not isinstance(obj, dict) or obj.get("type") not in ({"plain_text"} if plain_only else TEXT_TYPES):
            self.fail(pointer, "must be a valid enum value" if isinstance(obj, dict) else "must provide an object")
            return
        text = obj.get("text")
        if not isinstance(text, str) or not text:
            self.fail(f"{pointer}/text", "must be more than 0 characters")
            return
        self.max_len(text, limit, f"{pointer}/text")

    # -- blocks ---------------------------------------------------------------------
    def blocks(self, blocks: Any, limit: int, pointer: str) -> None:
        blocks = self.max_items(blocks, limit, pointer, minimum=0)
        seen_block_ids: set[str] = set()
        for i, block in enumerate(blocks):
            here = f"{pointer}/{i}"
            if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
                self.fail(here, "failed to match all allowed schemas")
                continue
            block_id = block.get("block_id")
            if block_id is not None:
                self.max_len(block_id, 255, f"{here}/block_id")
                if block_id in seen_block_ids:
                    self.fail(f"{here}/block_id", "duplicate block_id")
                seen_block_ids.add(block_id)
            getattr(self, "block_" + block["type"], lambda b, p: None)(block, here)

    def block_section(self, block: dict, here: str) -> None:
        if "text" not in block and "fields" not in block:
            self.fail(here, "must provide either text or fields")
        if "text" in block:
            self.text(block["text"], 3000, f"{here}/text")
        if "fields" in block:
            for j, item in enumerate(self.max_items(block["fields"], 10, f"{here}/fields")):
                self.text(item, 2000, f"{here}/fields/{j}")
        if "accessory" in block:
            self.element(block["accessory"], f"{here}/accessory", seen=set())

    def block_header(self, block: dict, here: str) -> None:
        self.text(block.get("text"), 150, f"{here}/text", plain_only=True)

    def block_context(self, block: dict, here: str) -> None:
        for j, item in enumerate(self.max_items(block.get("elements"), 10, f"{here}/elements")):
            if isinstance(item, dict) and item.get("type") == "image":
                self.max_len(item.get("alt_text"), 2000, f"{here}/elements/{j}/alt_text")
            else:
                self.text(item, 3000, f"{here}/elements/{j}")

    def block_actions(self, block: dict, here: str) -> None:
        seen: set[str] = set()
        for j, element in enumerate(self.max_items(block.get("elements"), 25, f"{here}/elements")):
            self.element(element, f"{here}/elements/{j}", seen=seen)

    def block_input(self, block: dict, here: str) -> None:
        self.text(block.get("label"), 2000, f"{here}/label", plain_only=True)
        self.text(block.get("hint"), 2000, f"{here}/hint", plain_only=True, required=False)
        if not isinstance(block.get("element"), dict):
            self.fail(f"{here}/element", "must provide an object")
        else:
            self.element(block["element"], f"{here}/element", seen=set())

    def block_image(self, block: dict, here: str) -> None:
        self.max_len(block.get("image_url"), 3000, f"{here}/image_url")
        if not isinstance(block.get("alt_text"), str):
            self.fail(f"{here}/alt_text", "must provide a string")
        self.max_len(block.get("alt_text"), 2000, f"{here}/alt_text")
        self.text(block.get("title"), 2000, f"{here}/title", plain_only=True, required=False)

    # -- elements -------------------------------------------------------------------
    def element(self, element: Any, here: str, *, seen: set[str]) -> None:
        if not isinstance(element, dict) or element.get("type") not in INTERACTIVE | {"image"}:
            self.fail(here, "failed to match all allowed schemas")
            return
        kind = element["type"]
        action_id = element.get("action_id")
        if action_id is not None:
            self.max_len(action_id, 255, f"{here}/action_id")
            # Slack requires action_id to be unique among the elements of one block.
            if action_id in seen:
                self.fail(f"{here}/action_id", "duplicate action_id")
            seen.add(action_id)
        if kind == "button":
            self.text(element.get("text"), 75, f"{here}/text", plain_only=True)
            self.max_len(element.get("value"), 2000, f"{here}/value")
            self.max_len(element.get("url"), 3000, f"{here}/url")
            if element.get("style") not in (None, "primary", "danger"):
                self.fail(f"{here}/style", "must be a valid enum value")
        if "placeholder" in element:
            self.text(element["placeholder"], 150, f"{here}/placeholder", plain_only=True)
        if kind in SELECTS_WITH_OPTIONS and "options" in element:
            limit = {"overflow": 5, "checkboxes": 10, "radio_buttons": 10}.get(kind, 100)
            for j, option in enumerate(self.max_items(element["options"], limit, f"{here}/options")):
                self.option(option, f"{here}/options/{j}")
        if "max_length" in element and isinstance(element["max_length"], int) and element["max_length"] > 3000:
            self.fail(f"{here}/max_length", "must be less than 3001")
        if "confirm" in element:
            # The confirmation dialog object: title 100, text 300, confirm and deny 30 characters each, all four
            # required; style primary or danger
            # (https://docs.slack.dev/reference/block-kit/composition-objects/confirmation-dialog-object).
            confirm = element["confirm"]
            if not isinstance(confirm, dict):
                self.fail(f"{here}/confirm", "must provide an object")
            else:
                if confirm.get("style") not in (None, "primary", "danger"):
                    self.fail(f"{here}/confirm/style", "must be a valid enum value")
                self.text(confirm.get("title"), 100, f"{here}/confirm/title", plain_only=True)
                self.text(confirm.get("text"), 300, f"{here}/confirm/text")
                self.text(confirm.get("confirm"), 30, f"{here}/confirm/confirm", plain_only=True)
                self.text(confirm.get("deny"), 30, f"{here}/confirm/deny", plain_only=True)

    def option(self, option: Any, here: str) -> None:
        if not isinstance(option, dict):
            self.fail(here, "must provide an object")
            return
        self.text(option.get("text"), 75, f"{here}/text")
        if not isinstance(option.get("value"), str):
            self.fail(f"{here}/value", "must provide a string")
        self.max_len(option.get("value"), 150, f"{here}/value")


def check_message(blocks: Any) -> list[str]:
    """Problems with a message's blocks (chat.postMessage/update/postEphemeral, response_url)."""
    checker = _Checker()
    if blocks is not None:
        checker.blocks(blocks, MAX_MESSAGE_BLOCKS, "/blocks")
    return checker.problems


def check_view(view: Any) -> list[str]:
    """Problems with a modal or App Home view (views.open/update/push/publish)."""
    checker = _Checker()
    if not isinstance(view, dict):
        checker.fail("/view", "must provide an object")
        return checker.problems
    kind = view.get("type")
    if kind not in ("modal", "home"):
        checker.fail("/view/type", "must be a valid enum value")
        return checker.problems
    if kind == "modal":
        checker.text(view.get("title"), 24, "/view/title", plain_only=True)
        checker.text(view.get("submit"), 24, "/view/submit", plain_only=True, required=False)
        checker.text(view.get("close"), 24, "/view/close", plain_only=True, required=False)
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or [])
        if has_input and "submit" not in view:
            checker.fail("/view/submit", "must provide submit when blocks contain input blocks")
    checker.max_len(view.get("private_metadata"), 3000, "/view/private_metadata")
    checker.max_len(view.get("callback_id"), 255, "/view/callback_id")
    checker.max_len(view.get("external_id"), 255, "/view/external_id")
    checker.blocks(view.get("blocks"), MAX_VIEW_BLOCKS, "/view/blocks")
    return checker.problems


def as_slack_messages(problems: list[str]) -> list[str]:
    """Problems as Slack lists them in response_metadata.messages."""
    return [f"[ERROR] {p}" for p in problems]
