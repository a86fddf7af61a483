"""The managers' daily digest as Block Kit."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.approvals.digest import Digest, age_text

MAX_BREACHES = 10


def text_fallback(d: Digest) -> str:
    """Notification text."""
    return f"holdfast daily digest: {d.pending} pending, {sum(d.decided.values())} decided in the last 24 h"


def build(d: Digest) -> list[dict[str, Any]]:
    """Header, pending and oldest, the last day's decisions, and SLA breaches."""
    oldest = (f", oldest *{d.oldest.order_name}* waiting {age_text(d.oldest_age)}"
              if d.oldest and d.oldest_age is not None else "")
    decided = ", ".join(f"{n} {status}" for status, n in d.decided.items()) or "none"
    blocks: list[Any] = [
        HeaderBlock(text="holdfast daily digest"),
        SectionBlock(text=MarkdownTextObject(text=f"*Pending:* {d.pending}{oldest}")),
        SectionBlock(text=MarkdownTextObject(text=f"*Decided in the last 24 h:* {decided}")),
    ]
    if d.breaches:
        lines = [f"• {b.row.order_name} ({b.row.policy_id}): waited {age_text(b.waited)}, SLA {age_text(b.sla)}"
                 + (" (still pending)" if b.row.status == "pending" else "") for b in d.breaches[:MAX_BREACHES]]
        if len(d.breaches) > MAX_BREACHES:
            lines.append(f"…and {len(d.breaches) - MAX_BREACHES} more")
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*SLA breaches:* {len(d.breaches)}\n" + "\n".join(lines))))
    else:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="No SLA breaches.")]))
    return [b.to_dict() for b in blocks]
