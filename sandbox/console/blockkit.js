// Block Kit drawn roughly as Slack draws it (https://docs.slack.dev/reference/block-kit/blocks): header, section
// (text, two-column fields, accessory), context, actions, divider, input, image, rich_text and markdown blocks.
// ctx: {userName, channelName, users, onAction({block, element, value}), confirm(confirmObj) → Promise<bool>,
//       form: {values: {block_id: value}, errors: {block_id: text}} (modals), suggest(block, element, text)}.
"use strict";

const BlockKit = (() => {
  const { el, text } = Mrkdwn;
  const SELECTS = ["static_select", "external_select", "users_select", "conversations_select", "channels_select"];
  const MULTI = SELECTS.map((s) => "multi_" + s);

  function tagged(node, block, element) {
    node.dataset.blockId = block.block_id || "";
    if (element && element.action_id) node.dataset.actionId = element.action_id;
    return node;
  }

  function options(element) {
    const groups = (element.option_groups || []).flatMap((g) => g.options || []);
    return [...(element.options || []), ...groups];
  }

  function userOptions(ctx) {
    return ctx.users.filter((u) => !u.is_bot).map((u) => ({ text: { type: "plain_text", text: u.real_name },
      value: u.id }));
  }

  function optionList(select, opts, placeholder) {
    select.replaceChildren(el("option", "", placeholder || "Select an item"));
    select.firstChild.value = "";
    for (const o of opts) {
      const option = el("option", "", Mrkdwn.emojify(String(o.text?.text ?? o.value)));
      option.value = o.value;
      select.appendChild(option);
    }
  }

  // An element's picked value as the control API takes it: option value, date, user id, text, or a list.
  function initial(element) {
    if (element.initial_option) return element.initial_option.value;
    if (element.initial_options) return element.initial_options.map((o) => o.value);
    return element.initial_value ?? element.initial_date ?? element.initial_time ?? element.initial_user ??
      element.initial_conversation ?? element.initial_channel ?? (element.initial_users || undefined);
  }

  function button(block, element, ctx) {
    const btn = tagged(el("button", "bk-button" + (element.style ? " bk-" + element.style : "")), block, element);
    btn.type = "button";
    btn.appendChild(text(element.text, ctx));
    if (element.url) btn.title = element.url;
    btn.addEventListener("click", async () => {
      if (element.confirm && !(await ctx.confirm(element.confirm))) return;
      ctx.onAction({ block, element, value: element.value });
    });
    return btn;
  }

  // A form control; in an input block it feeds ctx.form, elsewhere a change is an action (as in Slack).
  function control(block, element, ctx, inForm) {
    const kind = element.type;
    const report = (value) => {
      if (inForm) ctx.form.values[block.block_id] = value;
      if (!inForm || block.dispatch_action) ctx.onAction({ block, element, value });
    };
    const current = inForm && block.block_id in ctx.form.values ? ctx.form.values[block.block_id] : initial(element);
    let node;
    if (SELECTS.includes(kind) || MULTI.includes(kind) || kind === "overflow") {
      const select = el("select", "bk-select");
      select.multiple = MULTI.includes(kind);
      const opts = kind.includes("users_select") ? userOptions(ctx)
        : kind.includes("conversations_select") || kind.includes("channels_select") ? ctx.channelOptions()
          : options(element);
      optionList(select, opts, kind === "overflow" ? "⋯" : element.placeholder?.text);
      if (kind.includes("external_select")) return external(block, element, ctx, select, report, current);
      const picked = [].concat(current ?? []);
      for (const option of select.options) option.selected = picked.includes(option.value);
      select.addEventListener("change", () => report(select.multiple
        ? [...select.selectedOptions].map((o) => o.value) : select.value || null));
      node = select;
    } else if (kind === "checkboxes" || kind === "radio_buttons") {
      node = el("div", "bk-choices");
      const picked = [].concat(current ?? []);
      const name = "c" + Math.random().toString(36).slice(2);
      for (const o of options(element)) {
        const label = el("label", "bk-choice");
        const input = el("input");
        input.type = kind === "checkboxes" ? "checkbox" : "radio";
        input.name = name;
        input.value = o.value;
        input.checked = picked.includes(o.value);
        input.addEventListener("change", () => report(kind === "checkboxes"
          ? [...node.querySelectorAll("input:checked")].map((i) => i.value) : input.value));
        label.append(input, text(o.text, ctx));
        node.appendChild(label);
      }
    } else {
      const multiline = kind === "plain_text_input" && element.multiline;
      node = el(multiline ? "textarea" : "input", "bk-input");
      if (!multiline) {
        node.type = { datepicker: "date", timepicker: "time", number_input: "number", email_text_input: "email",
          url_text_input: "url", datetimepicker: "datetime-local" }[kind] || "text";
      }
      if (kind === "number_input") {
        node.step = element.is_decimal_allowed ? "any" : "1";
        if (element.min_value !== undefined) node.min = element.min_value;
        if (element.max_value !== undefined) node.max = element.max_value;
      }
      if (element.max_length) node.maxLength = element.max_length;
      if (element.placeholder) node.placeholder = element.placeholder.text;
      node.value = current ?? "";
      node.addEventListener(inForm ? "input" : "change", () => report(node.value === "" ? null : node.value));
    }
    return tagged(node, block, element);
  }

  // external_select: Slack asks the app for options as the user types (block_suggestion); so does the console.
  function external(block, element, ctx, select, report, current) {
    const box = tagged(el("div", "bk-external"), block, element);
    const search = el("input", "bk-input");
    search.type = "search";
    search.placeholder = "Type to search…";
    // An element's min_query_length is how many characters Slack waits for before it asks
    // (https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element); without one, the first.
    const least = element.min_query_length ?? 1;
    let timer = null;
    search.addEventListener("input", () => {
      clearTimeout(timer);
      if (search.value.length < least) return;
      timer = setTimeout(async () => {
        optionList(select, await ctx.suggest(block, element, search.value), element.placeholder?.text);
      }, 250);
    });
    const labels = ctx.form.labels ||= {};  // what the picked option said, to draw it again after a redraw
    if (current) {
      optionList(select, [{ text: { text: labels[block.block_id] || String(current) }, value: current }],
        element.placeholder?.text);
      select.value = current;
    }
    select.addEventListener("change", () => {
      labels[block.block_id] = select.selectedOptions[0]?.textContent;
      report(select.value || null);
    });
    box.append(search, select);
    return box;
  }

  function element(block, elem, ctx) {
    if (!elem) return el("span");
    if (elem.type === "button") return button(block, elem, ctx);
    if (elem.type === "image") return el("span", "bk-image", "🖼 " + (elem.alt_text || "image"));
    if (elem.type === "mrkdwn" || elem.type === "plain_text") return text(elem, ctx);
    if (elem.type === "workflow_button") return el("span", "bk-unknown", "[workflow button]");
    return control(block, elem, ctx, false);
  }

  function section(block, ctx) {
    const node = el("div", "bk-section");
    const body = el("div", "bk-section-body");
    if (block.text) body.appendChild(text(block.text, ctx, "div", "bk-text"));
    if (block.fields) {
      const grid = el("div", "bk-fields");
      for (const field of block.fields) grid.appendChild(text(field, ctx, "div", "bk-field"));
      body.appendChild(grid);
    }
    node.appendChild(body);
    if (block.accessory) {
      const side = el("div", "bk-accessory");
      side.appendChild(element(block, block.accessory, ctx));
      node.appendChild(side);
    }
    return node;
  }

  function input(block, ctx) {
    const node = el("div", "bk-input-block");
    const label = text(block.label, ctx, "label", "bk-label");
    if (block.optional) label.appendChild(el("span", "bk-optional", " (optional)"));
    node.appendChild(label);
    node.appendChild(control(block, block.element || {}, ctx, true));
    const error = ctx.form.errors[block.block_id];
    if (error) node.appendChild(el("div", "bk-error", error));
    if (block.hint) node.appendChild(text(block.hint, ctx, "div", "bk-hint"));
    if (error) node.classList.add("bk-invalid");
    return node;
  }

  function richText(node, ctx) {
    if (!node || typeof node !== "object") return el("span");
    if (node.type === "text") {
      const span = el(node.style?.code ? "code" : "span", node.style?.code ? "code" : "", node.text);
      if (node.style?.bold) span.style.fontWeight = "bold";
      if (node.style?.italic) span.style.fontStyle = "italic";
      return span;
    }
    if (node.type === "user") return el("span", "mention", "@" + (ctx.userName(node.user_id) || node.user_id));
    if (node.type === "channel") return el("span", "mention", "#" + (ctx.channelName(node.channel_id) || ""));
    if (node.type === "link") return el("span", "link", node.text || node.url);
    if (node.type === "emoji") return el("span", "", node.unicode ? String.fromCodePoint(parseInt(node.unicode, 16))
      : Mrkdwn.emojify(":" + node.name + ":"));
    const tag = { rich_text_preformatted: "pre", rich_text_quote: "blockquote", rich_text_list: "ul" }[node.type];
    const box = el(tag || (node.type === "rich_text_section" ? "div" : "span"));
    for (const child of node.elements || []) {
      const drawn = richText(child, ctx);
      box.appendChild(node.type === "rich_text_list" ? el("li").appendChild(drawn).parentNode : drawn);
    }
    return box;
  }

  function block(b, ctx) {
    let node;
    switch (b.type) {
      case "header": node = text(b.text, ctx, "div", "bk-header"); break;
      case "section": node = section(b, ctx); break;
      case "divider": node = el("hr", "bk-divider"); break;
      case "context":
        node = el("div", "bk-context");
        for (const e of b.elements || []) node.appendChild(element(b, e, ctx));
        break;
      case "actions":
        node = el("div", "bk-actions");
        for (const e of b.elements || []) node.appendChild(element(b, e, ctx));
        break;
      case "input": node = input(b, ctx); break;
      case "image": node = el("div", "bk-image", "🖼 " + (b.alt_text || "image")); break;
      case "rich_text": node = richText(b, ctx); node.classList.add("bk-rich"); break;
      case "markdown": node = el("div", "bk-markdown", b.text); break;
      default: node = el("div", "bk-unknown", `[${b.type} block]`);
    }
    node.classList.add("bk-block");
    node.dataset.blockType = b.type;
    if (b.block_id) node.dataset.blockId = b.block_id;
    return node;
  }

  function render(blocks, ctx) {
    const box = el("div", "bk-blocks");
    for (const b of blocks || []) box.appendChild(block(b, ctx));
    return box;
  }

  return { render, initial };
})();
