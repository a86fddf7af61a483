"""What a decision does in Shopify, in the words an approver reads before clicking and after it landed (pure).

Read from the same policy keys that `bot/approvals/machine.outcome` turns into jobs (`on_reject`, `cancel`,
`tags`, `internal.on_reject`), so what the confirmation promises is what the jobs do. Sentences are plain text:
the confirmation dialog shows them as `plain_text`, and mrkdwn callers escape them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.approvals.schema import Policy
from bot.blocks.money import format_money

# Slack's confirmation dialog object: title at most 100 characters, text at most 300, each button 30
# (https://docs.slack.dev/reference/block-kit/composition-objects/confirmation-dialog-object).
CONFIRM_TITLE = 100
CONFIRM_TEXT = 300
NAME = 64  # order names are stored in 64 characters (storage/models.py): a sentence stays well under 300


@dataclass(frozen=True)
class Consequences:
    """The two decisions of a request, said before the click."""

    approve: str
    reject: str
    approve_asks: bool  # approving does more than release a hold (a draft becomes an order): confirm it first


def _name(order: dict[str, Any]) -> str:
    return str(order.get("name") or "?")[:NAME]


def _total(order: dict[str, Any]) -> str:
    return format_money(order.get("total_price", "?"), str(order.get("currency") or ""))


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _cancel(policy: Policy, order: dict[str, Any]) -> str:
    c, name = policy.cancel, _name(order)
    acts = [f"cancels order {name}"]
    if c.restock:
        acts.append("restocks its items")
    if c.refund:  # orderCancel refunds to the original payment methods (bot/features/requests/shopify_effects.py)
        acts.append(f"refunds {_total(order)} to the customer")
    said = f"Rejecting {_and(acts)}."
    if not c.refund:
        said += " No refund is made."
    return said + (" Shopify emails the customer." if c.notify_customer else " The customer is not emailed.")


def of(policy: Policy, order: dict[str, Any]) -> Consequences:
    """What approving and rejecting a request of `policy` on `order` (its stored snapshot) do."""
    name = _name(order)
    if policy.internal is not None:  # an /order-request: a draft order, never held
        approve = f"Approving turns draft {name} into an order in Shopify ({_total(order)}), tagged {policy.tags.approved}."
        if policy.internal.on_reject == "delete":
            reject = f"Rejecting deletes draft {name} in Shopify: no order is placed."
        else:
            reject = f"Rejecting keeps draft {name} as a draft, tagged {policy.tags.rejected}: no order is placed."
        return Consequences(approve[:CONFIRM_TEXT], reject[:CONFIRM_TEXT], approve_asks=True)
    approve = f"Approving releases the hold on order {name}, so it can be fulfilled, and tags it {policy.tags.approved}."
    if policy.on_reject == "cancel":
        reject = _cancel(policy, order)
    elif policy.on_reject == "release":
        reject = (f"Rejecting releases the hold on order {name}, so it can be fulfilled, and tags it "
                  f"{policy.tags.rejected}.")
    else:
        reject = (f"Rejecting keeps the hold on order {name}: it is not fulfilled until someone releases it in "
                  f"Shopify. It is tagged {policy.tags.rejected}.")
    return Consequences(approve[:CONFIRM_TEXT], reject[:CONFIRM_TEXT], approve_asks=False)


def keeps_hold(policy: Policy | None, status: str) -> bool:
    """Whether a decided request leaves holdfast's hold on the order (nothing further to land in Shopify)."""
    if policy is None or policy.internal is not None:
        return False
    return status == "expired" or (status == "rejected" and policy.on_reject == "keep_hold")


def applied(policy: Policy | None, status: str) -> str | None:
    """What a decided request's outcome did once Shopify applied it ("order cancelled, items restocked, …")."""
    if policy is None or policy.internal is not None:
        return None  # a draft's outcome is its own line (bot/blocks/request_message.py, _draft_line)
    if status == "approved" or (status == "rejected" and policy.on_reject == "release"):
        return "hold released, the order can be fulfilled"
    if status == "rejected" and policy.on_reject == "cancel":
        done = ["order cancelled"]
        if policy.cancel.restock:
            done.append("items restocked")
        done.append("refund to the original payment" if policy.cancel.refund else "no refund")
        return ", ".join(done)
    return None


def cancelled(order_name: str, *, restock: bool | None, refund: bool | None, financial_status: str | None) -> str:
    """The thread's account of a finished cancellation, from what was asked and the payment status Shopify shows
    after it (Order.displayFinancialStatus: https://shopify.dev/docs/api/admin-graphql/latest/enums/OrderDisplayFinancialStatus)."""
    done = [f"order {order_name[:NAME]} cancelled"]
    if restock is not None:
        done.append("items restocked" if restock else "items not restocked")
    status = (financial_status or "").upper()
    if status == "REFUNDED":
        done.append("payment refunded")
    elif status == "PARTIALLY_REFUNDED":
        done.append("payment partly refunded")
    elif status == "VOIDED":
        done.append("payment voided (it was authorised, never captured)")
    elif status in ("PENDING", "EXPIRED"):
        done.append("nothing was paid, so nothing refunded")
    elif status in ("PAID", "PARTIALLY_PAID", "AUTHORIZED"):
        done.append("no refund shown yet: refund the customer in the Shopify admin if it is due" if refund else
                    "no refund, as the policy says")
    return "Shopify: " + ", ".join(done) + "."


def hold_kept(order_name: str, *, tag: str, held: bool) -> str:
    """The thread's account of a decision that leaves the hold on (once its tag is on the order)."""
    name = order_name[:NAME]
    if held:
        return (f"Shopify: order {name} tagged {tag}; the hold stays, so it is not fulfilled until someone releases "
                "it in Shopify.")
    return (f"Shopify: order {name} tagged {tag}. holdfast's hold is NOT on it, so nothing stops it shipping: hold "
            "or cancel it in Shopify.")
