// Slack's mrkdwn drawn as DOM nodes (never innerHTML: every piece of text goes through textContent).
// The syntax is Slack's: https://docs.slack.dev/messaging/formatting-message-text/ — *bold*, _italic_, ~strike~,
// `code`, ```preformatted```, "> " quotes, <url|label> links, <@U…> / <#C…> / <!here> / <!subteam^S…> mentions,
// <!date^…|fallback>; &amp; &lt; &gt; are the only escaped characters.
"use strict";

const Mrkdwn = (() => {
  const EMOJI = {
    warning: "⚠️", hourglass_flowing_sand: "⏳", white_check_mark: "✅", no_entry_sign: "🚫", memo: "📝",
    alarm_clock: "⏰", x: "❌", rotating_light: "🚨", memory: "🧠", lock: "🔒", unlock: "🔓", wastebasket: "🗑️",
    thinking_face: "🤔", tada: "🎉", page_facing_up: "📄", package: "📦", bell: "🔔", heavy_check_mark: "✔️",
    eyes: "👀", hourglass: "⌛", information_source: "ℹ️", point_right: "👉", moneybag: "💰", clipboard: "📋",
    arrows_counterclockwise: "🔄", stopwatch: "⏱️", busts_in_silhouette: "👥", bust_in_silhouette: "👤",
  };

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function unescape(text) {
    return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  function emojify(text) {
    return text.replace(/:([a-z0-9_+-]+):/g, (whole, name) => EMOJI[name] || whole);
  }

  // Plain text with its newlines kept as <br>.
  function plain(parent, text, { emoji = true } = {}) {
    const shown = emoji ? emojify(unescape(text)) : unescape(text);
    shown.split("\n").forEach((line, i) => {
      if (i) parent.appendChild(document.createElement("br"));
      if (line) parent.appendChild(document.createTextNode(line));
    });
  }

  const SAFE_URL = /^(https?:|mailto:|slack:)/i;

  // One <…> token: a link, a mention or a date.
  function special(parent, body, ctx) {
    const [target, label] = body.includes("|") ? [body.slice(0, body.indexOf("|")), body.slice(body.indexOf("|") + 1)]
      : [body, ""];
    if (target.startsWith("@")) {
      parent.appendChild(el("span", "mention", "@" + (ctx.userName(target.slice(1)) || label || target.slice(1))));
    } else if (target.startsWith("#")) {
      parent.appendChild(el("span", "mention", "#" + (ctx.channelName(target.slice(1)) || label || target.slice(1))));
    } else if (target.startsWith("!subteam^")) {
      parent.appendChild(el("span", "mention", label ? unescape(label) : "@" + target.slice(9)));
    } else if (target.startsWith("!date^")) {
      parent.appendChild(document.createTextNode(unescape(label || target.split("^")[2] || "")));
    } else if (target.startsWith("!")) {
      parent.appendChild(el("span", "mention", "@" + target.slice(1)));
    } else {
      const url = unescape(target);
      const link = el("a", "link", unescape(label || target));
      if (SAFE_URL.test(url)) {
        link.href = url;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
      }
      parent.appendChild(link);
    }
  }

  // Earliest-match scan: the first token wins; styled spans recurse, code and links do not.
  const TOKENS = [
    { re: /`([^`\n]+)`/g, draw: (p, m) => p.appendChild(el("code", "code", unescape(m[1]))) },
    { re: /<([^<>\n]+)>/g, draw: (p, m, ctx) => special(p, m[1], ctx) },
    { re: /(?<![\w*])\*(?!\s)([^*\n]+?)\*(?![\w*])/g, tag: "b" },
    { re: /(?<![\w_])_(?!\s)([^_\n]+?)_(?![\w_])/g, tag: "i" },
    { re: /(?<![\w~])~(?!\s)([^~\n]+?)~(?![\w~])/g, tag: "s" },
  ];

  function inline(parent, text, ctx) {
    let at = 0;
    while (at < text.length) {
      let best = null;
      for (const token of TOKENS) {
        token.re.lastIndex = at;
        const m = token.re.exec(text);
        if (m && (!best || m.index < best.m.index)) best = { token, m };
      }
      if (!best) break;
      plain(parent, text.slice(at, best.m.index));
      if (best.token.tag) {
        const span = el(best.token.tag);
        inline(span, best.m[1], ctx);
        parent.appendChild(span);
      } else {
        best.token.draw(parent, best.m, ctx);
      }
      at = best.m.index + best.m[0].length;
    }
    plain(parent, text.slice(at));
  }

  // Runs of lines starting with "> " (escaped as "&gt; ") are a quote; the rest is inline text.
  function lines(parent, text, ctx) {
    const quote = /^(&gt;|>) ?/;
    const groups = [];
    for (const line of text.split("\n")) {
      const quoted = quote.test(line);
      const last = groups[groups.length - 1];
      if (last && last.quoted === quoted) last.lines.push(line);
      else groups.push({ quoted, lines: [line] });
    }
    for (const group of groups) {
      const box = group.quoted ? el("blockquote", "quote") : el("span");
      inline(box, group.lines.map((l) => (group.quoted ? l.replace(quote, "") : l)).join("\n"), ctx);
      parent.appendChild(box);
    }
  }

  // mrkdwn text into `parent`; ```…``` spans are preformatted and drawn as typed.
  function render(parent, text, ctx) {
    const parts = String(text ?? "").split("```");
    parts.forEach((part, i) => {
      if (i % 2) {
        parent.appendChild(el("pre", "pre", unescape(part.replace(/^\n/, ""))));
      } else if (part) {
        lines(parent, part, ctx);
      }
    });
    return parent;
  }

  // A text object: mrkdwn is parsed, plain_text is shown as typed (emoji shortcodes still become emoji).
  function text(obj, ctx, tag = "span", cls = "") {
    const node = el(tag, cls);
    if (!obj) return node;
    if (typeof obj === "string") return render(node, obj, ctx);
    if (obj.type === "mrkdwn") return render(node, obj.text, ctx);
    plain(node, String(obj.text ?? "").replace(/&/g, "&amp;"), { emoji: obj.emoji !== false });
    return node;
  }

  return { render, text, el, emojify };
})();
