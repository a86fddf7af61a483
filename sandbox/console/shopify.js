// The console's Shopify side: each order with its tags and fulfillment orders, their status and holds (the
// FulfillmentHold object: https://shopify.dev/docs/api/admin-graphql/latest/objects/FulfillmentHold),
// and a form that places an order (POST /orders, which also delivers its orders/create webhook).
"use strict";

const ShopifyPanel = (() => {
  const { el } = Mrkdwn;
  const MUG = { title: "Mug", sku: "MUG-1", quantity: 1, price: "12.00" };
  const US = { country_code: "US", country: "United States", province_code: "OR", city: "Portland" };
  const buyer = (email, more = {}) => ({ email, first_name: "Pat", last_name: "Buyer", orders_count: 5, ...more });
  // One order per example policy a merchant is likely to try first (holdfast.example.yml).
  const PRESETS = {
    "Staff order": { line_items: [MUG], customer: buyer("sam@staff.example", { tags: ["staff"] }),
      shipping_address: US },
    "High-value order (asks for fields)": { line_items: [{ ...MUG, quantity: 8, price: "1550.00" }],
      customer: buyer("b@cafe.example"), shipping_address: US },
    "Influencer sample": { line_items: [{ ...MUG, price: "149.00" }], customer: buyer("ivy@creators.example"),
      discount_codes: [{ code: "INFLUENCER100", amount: "149.00", type: "percentage" }], total_discounts: "149.00",
      shipping_address: US },
    "Ordinary order (not flagged)": { line_items: [MUG], customer: buyer("joe@example.com"), shipping_address: US },
  };

  function money(amount, currency) {
    const n = Number(amount);
    return Number.isFinite(n) ? `${n.toLocaleString(undefined, { minimumFractionDigits: 2 })} ${currency}` : amount;
  }

  function short(gid) {
    return String(gid).split("/").pop();
  }

  function hold(h, info) {
    const node = el("li", "hold");
    node.dataset.holdId = h.id;
    node.append(el("span", "hold-handle", h.handle || "(no handle)"));
    if (info) {
      node.append(el("span", "hold-reason", info.reason), el("span", "hold-app", "by " + info.app));
      if (info.reason_notes) node.append(el("span", "hold-notes", info.reason_notes));
    }
    return node;
  }

  function fulfillmentOrder(fo, details) {
    const node = el("div", "fo");
    node.dataset.foId = fo.id;
    node.dataset.status = fo.status;
    const head = el("div", "fo-head");
    head.append(el("span", "fo-id", "Fulfillment order " + short(fo.id)),
      el("span", "badge status-" + fo.status, fo.status.replace("_", " ")));
    node.appendChild(head);
    if (fo.holds.length) {
      const list = el("ul", "holds");
      for (const h of fo.holds) list.appendChild(hold(h, details?.holds?.[h.id]));
      node.appendChild(list);
    }
    return node;
  }

  function order(o, details) {
    const card = el("div", "order");
    card.dataset.orderName = o.name;
    const head = el("div", "order-head");
    head.append(el("span", "order-name", o.name));
    if (details) {
      head.append(el("span", "order-total", money(details.total, details.currency)));
      if (details.cancelled) head.append(el("span", "badge status-CANCELLED", "CANCELLED"));
      head.append(el("span", "badge", details.financial_status.toUpperCase()),
        el("span", "badge status-" + details.fulfillment_status, details.fulfillment_status.replace("_", " ")));
    }
    card.appendChild(head);
    if (details) {
      const who = [details.customer, details.email].filter(Boolean).join(" · ");
      if (who) card.appendChild(el("div", "order-customer", who));
      card.appendChild(el("div", "order-lines", details.line_items.map((li) => `${li.quantity} × ${li.title} `
        + `@ ${li.price}`).join(", ")));
    }
    const tags = el("div", "tags");
    for (const tag of o.tags) tags.appendChild(el("span", "tag", tag));
    if (!o.tags.length) tags.appendChild(el("span", "muted", "no tags"));
    card.appendChild(tags);
    for (const fo of o.fulfillment_orders) card.appendChild(fulfillmentOrder(fo, details));
    if (details?.note) card.appendChild(el("pre", "order-note", details.note));
    return card;
  }

  function draft(d) {
    const card = el("div", "order draft");
    card.dataset.draftName = d.name;
    const head = el("div", "order-head");
    head.append(el("span", "order-name", "Draft " + d.name), el("span", "order-total", money(d.total, d.currency)),
      el("span", "badge status-" + d.status, d.status + (d.order ? " → " + d.order : "")));
    card.append(head, el("div", "order-lines", d.line_items.map((li) => `${li.quantity} × ${li.title}`).join(", ")));
    const tags = el("div", "tags");
    for (const tag of d.tags) tags.appendChild(el("span", "tag", tag));
    card.appendChild(tags);
    return card;
  }

  let drawn = null;

  function draw(container, orders, details, drafts = []) {
    const key = JSON.stringify([orders.map((o) => [o.name, o.tags, o.fulfillment_orders]), details, drafts]);
    if (key === drawn) return;
    drawn = key;
    const sorted = [...orders].sort((a, b) => b.name.localeCompare(a.name, undefined, { numeric: true }));
    container.replaceChildren(...sorted.map((o) => order(o, details?.[o.gid])), ...[...drafts].reverse().map(draft));
    if (!orders.length && !drafts.length) container.appendChild(el("div", "empty", "No orders yet."));
  }

  function setup(form, { onPlaced, toast }) {
    const preset = form.querySelector("select");
    const spec = form.querySelector("textarea");
    for (const name of Object.keys(PRESETS)) {
      const option = el("option", "", name);
      option.value = name;
      preset.appendChild(option);
    }
    const fill = () => { spec.value = JSON.stringify(PRESETS[preset.value], null, 1); };
    preset.onchange = fill;
    fill();
    form.onsubmit = async (event) => {
      event.preventDefault();
      let body;
      try { body = JSON.parse(spec.value); } catch (err) { return toast("The order is not JSON: " + err.message, true); }
      const resp = await fetch("/orders", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body) });
      const data = await resp.json().catch(() => ({}));
      if (!resp.ok) return toast(data.error || `POST /orders answered ${resp.status}`, true);
      const delivered = data.webhook_status === 200;
      toast(`Placed ${data.name}; orders/create webhook ${delivered ? "delivered" : data.webhook_status}`, !delivered);
      onPlaced();
    };
  }

  return { draw, setup };
})();
