"""The per-request context every resolver receives as `info.context`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .state import Order, Shop

if TYPE_CHECKING:
    from .control import ShopifySandbox


@dataclass
class Ctx:
    """Per-request context: who is asking, for which shop, and what this request has read."""

    sb: ShopifySandbox
    shop: Shop
    app: str
    now: datetime
    visible: dict[str, bool] = field(default_factory=dict)  # order gid -> FOs visible this request
    search: list[dict[str, Any]] = field(default_factory=list)  # `extensions.search` warnings

    def see(self, order: Order) -> bool:
        """Count one read of `order` per request; say whether its FOs have appeared yet."""
        if order.gid not in self.visible:
            self.visible[order.gid] = order.fo_routed and order.reads >= order.fo_visible_after
            order.reads += 1
        return self.visible[order.gid]

    def node(self, gid: Any, kind: str | None = None) -> Any:
        """The shop's object with this id (and kind), or None; lagging FOs are not found."""
        found = self.sb.lookup(str(gid), self.shop.domain)
        if found is None:
            return None
        obj, gate = found  # gate: the order whose FO lag hides this object, if any
        if kind and type_name(obj) != kind:
            return None
        if isinstance(obj, Order):
            self.see(obj)
        if gate is not None and not self.see(gate):
            return None
        return obj


def type_name(obj: Any) -> str:
    """The GraphQL type of a Node: the kind in its gid (gid://shopify/KIND/ID)."""
    return str(obj.gid).split("/")[3]
