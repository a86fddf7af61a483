// The console's Slack side: channels and threads, App Home, modals and the slash-command box, polled every second
// from the control API; every click goes back through it to the simulator, which signs it as Slack does.
"use strict";

const { el } = Mrkdwn;
const $ = (id) => document.getElementById(id);
const state = { ws: null, messages: [], ephemerals: [], views: [], home: null, orders: [], answers: [],
  channel: null, user: null, forms: {}, dismissed: {}, drawn: {} };

async function api(path, body) {
  const init = body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body) };
  const resp = await fetch(path, init);
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Error(data.error || `${path} answered ${resp.status}`);
  return data;
}

function toast(message, bad = false) {
  const box = $("toast");
  box.textContent = message;
  box.className = bad ? "toast bad" : "toast";
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.className = "toast hidden"; }, 4000);
}

// The bot's answer to a simulated request: status 0 is "the bot is down", anything but 200 is shown.
function answered(reply, what) {
  if (reply.status === 200) return true;
  toast(reply.status === 0 ? `${what}: holdfast did not answer (${reply.body})` : `${what}: holdfast answered `
    + `${reply.status} ${String(reply.body || "").slice(0, 200)}`, true);
  return false;
}

function userName(id) {
  const user = state.ws?.users.find((u) => u.id === id);
  return user ? user.real_name : null;
}

function channelName(id) {
  const channel = state.ws?.channels.find((c) => c.id === id);
  if (!channel) return null;
  return channel.is_im ? `${userName(channel.user) || channel.user} (DM)` : channel.name;
}

function ctx(extra) {
  return { userName, channelName, users: state.ws?.users || [], form: { values: {}, errors: {} },
    channelOptions: () => (state.ws?.channels || []).filter((c) => !c.is_im)
      .map((c) => ({ text: { text: "#" + c.name }, value: c.id })),
    confirm: askConfirm, suggest: async () => [], onAction: () => {}, ...extra };
}

async function act(path, body, what) {
  try {
    const reply = await api(path, { ...body, user: state.user });
    answered(reply, what);
    return reply;
  } catch (err) {
    toast(`${what}: ${err.message}`, true);
    return null;
  } finally {
    refresh();
    setTimeout(refresh, 300);
  }
}

function actionBody({ block, element, value }) {
  const body = { action_id: element.action_id, block_id: block.block_id };
  if (value !== undefined && value !== null) body.value = Array.isArray(value) ? value[0] : value;
  return body;
}

function time(ts) {
  return new Date(parseFloat(ts) * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function messageNode(msg, { ephemeral = false } = {}) {
  const node = el("div", "message" + (ephemeral ? " ephemeral" : ""));
  node.dataset.ts = msg.ts || msg.message_ts;
  const head = el("div", "message-head");
  head.append(el("span", "avatar", "H"), el("span", "author", "holdfast"), el("span", "app-badge", "APP"),
    el("span", "time", time(msg.ts || msg.message_ts)));
  if (msg.edited_ts) head.appendChild(el("span", "edited", "(edited)"));
  if (ephemeral) head.appendChild(el("span", "only-you", "Only visible to you"));
  node.appendChild(head);
  const onAction = ephemeral
    ? (a) => act(`/console/api/ephemerals/${encodeURIComponent(msg.message_ts)}/actions`, actionBody(a), "click")
    : (a) => act("/click", { channel: msg.channel, ts: msg.ts, ...actionBody(a) }, "click");
  const body = msg.blocks && msg.blocks.length ? BlockKit.render(msg.blocks, ctx({ onAction }))
    : Mrkdwn.render(el("div", "bk-text"), msg.raw_text ?? msg.text, ctx());
  body.classList.add("message-body");
  node.appendChild(body);
  return node;
}

function drawChannel() {
  const pane = $("messages");
  const mine = state.messages.filter((m) => m.channel === state.channel);
  const ephemerals = state.ephemerals.filter((e) => e.user === state.user && e.channel === state.channel)
    .concat(state.answers.filter((a) => a.channel === state.channel && a.user === state.user));
  const key = JSON.stringify([state.channel, state.user, mine, ephemerals, state.ws?.users]);
  if (state.drawn.channel === key) return;
  state.drawn.channel = key;
  const atBottom = pane.scrollHeight - pane.scrollTop - pane.clientHeight < 40;
  const roots = mine.filter((m) => !m.thread_ts || m.thread_ts === m.ts);
  const items = [...roots.map((m) => ({ ts: m.ts, node: () => withThread(m, mine) })),
    ...ephemerals.map((e) => ({ ts: e.message_ts, node: () => messageNode(e, { ephemeral: true }) }))];
  items.sort((a, b) => parseFloat(a.ts) - parseFloat(b.ts));
  pane.replaceChildren(...items.map((i) => i.node()));
  if (!items.length) pane.appendChild(el("div", "empty", "No messages yet. Place an order on the right."));
  if (atBottom) pane.scrollTop = pane.scrollHeight;
}

// A parent and its replies, drawn under it as Slack's thread view lists them.
function withThread(parent, all) {
  const node = messageNode(parent);
  const replies = all.filter((m) => m.thread_ts === parent.ts && m.ts !== parent.ts)
    .sort((a, b) => parseFloat(a.ts) - parseFloat(b.ts));
  if (replies.length) {
    const thread = el("details", "thread");
    thread.open = true;
    thread.appendChild(el("summary", "thread-count", `${replies.length} ${replies.length === 1 ? "reply" : "replies"}`));
    for (const reply of replies) thread.appendChild(messageNode(reply));
    node.appendChild(thread);
  }
  return node;
}

function drawHome() {
  const pane = $("messages");
  const view = state.home;
  const key = JSON.stringify(["home", state.user, view]);
  if (state.drawn.channel === key) return;
  state.drawn.channel = key;
  if (!view) {
    pane.replaceChildren(el("div", "empty", "holdfast has not published a Home tab for this user yet."));
    return;
  }
  const onAction = (a) => act(`/views/${view.id}/actions`, actionBody(a), "click");
  pane.replaceChildren(el("div", "home", ""));
  pane.firstChild.appendChild(BlockKit.render(view.blocks, ctx({ onAction })));
}

function drawSidebar() {
  const ws = state.ws;
  const key = JSON.stringify([ws.channels, ws.users, state.channel, state.user, state.messages.length]);
  if (state.drawn.sidebar === key) return;
  state.drawn.sidebar = key;
  const entry = (id, label, cls) => {
    const item = el("button", "nav-item" + (state.channel === id ? " active" : "") + (cls ? " " + cls : ""), label);
    item.dataset.channel = id;
    const count = state.messages.filter((m) => m.channel === id).length;
    if (count) item.appendChild(el("span", "count", String(count)));
    item.onclick = () => select(id);
    return item;
  };
  const channels = ws.channels.filter((c) => !c.is_im);
  const dms = ws.channels.filter((c) => c.is_im);
  $("nav").replaceChildren(el("div", "nav-title", "Apps"), entry("home", "🏠 holdfast · Home"),
    el("div", "nav-title", "Channels"),
    ...channels.map((c) => entry(c.id, "# " + c.name + (c.bot_member ? "" : " (holdfast not invited)"))),
    el("div", "nav-title", "Direct messages"), ...dms.map((c) => entry(c.id, "💬 " + channelName(c.id))));
  const picker = $("user");
  if (picker.options.length !== ws.users.filter((u) => !u.is_bot).length) {
    picker.replaceChildren(...ws.users.filter((u) => !u.is_bot).map((u) => {
      const option = el("option", "", `${u.real_name} (${u.id})`);
      option.value = u.id;
      return option;
    }));
  }
  picker.value = state.user;
  $("commands").replaceChildren(...(ws.commands || []).map((c) => {
    const option = el("option");
    option.value = c.command + " ";
    option.label = `${c.command} ${c.usage_hint}`;
    return option;
  }));
}

async function select(channel) {
  state.channel = channel;
  location.hash = `${channel}/${state.user}`;
  $("channel-title").textContent = channel === "home" ? "holdfast · Home" : "# " + (channelName(channel) || channel);
  $("command-form").hidden = channel === "home";
  if (channel === "home") {
    const reply = await act("/home", {}, "open Home");
    if (reply && reply.view) state.home = reply.view;
  }
  draw();
}

async function command(event) {
  event.preventDefault();
  const line = $("command").value.trim();
  const [name, ...rest] = line.split(/\s+/);
  if (!name.startsWith("/")) return toast("A slash command starts with /, e.g. /approvals queue", true);
  const reply = await act("/commands", { command: name, text: rest.join(" "), channel: state.channel }, name);
  $("command").value = "";
  let ack = null;
  try { ack = reply && reply.body ? JSON.parse(reply.body) : null; } catch { ack = { text: reply.body }; }
  if (ack && (ack.text || ack.blocks)) {  // the command's immediate answer: ephemeral unless it says in_channel
    state.answers.push({ channel: state.channel, user: state.user, text: ack.text || "", blocks: ack.blocks || [],
      message_ts: String(Date.now() / 1000) });
  }
  draw();
}

function draw() {
  if (!state.ws) return;
  drawSidebar();
  if (state.channel === "home") drawHome(); else drawChannel();
  drawModal();
  ShopifyPanel.draw($("orders"), state.orders, state.ws.orders, state.ws.drafts);
}

async function refresh() {
  try {
    const [ws, msgs, views, st] = await Promise.all([api("/console/api/workspace"), api("/messages"),
      api("/views?user=" + encodeURIComponent(state.user || "")), api("/state")]);
    Object.assign(state, { ws, messages: msgs.messages, ephemerals: ws.ephemerals, views: views.views,
      orders: st.orders });
    if (!state.user) state.user = ws.users.find((u) => !u.is_bot)?.id;
    if (!state.channel) state.channel = (ws.channels.find((c) => !c.is_im) || { id: "home" }).id;
    if (state.channel === "home") state.home = (await api(`/home/${encodeURIComponent(state.user)}`)).view;
    $("status").textContent = "live";
    $("status").className = "status live";
    draw();
  } catch (err) {
    $("status").textContent = "disconnected: " + err.message;
    $("status").className = "status down";
  }
}

function start() {
  const [channel, user] = decodeURIComponent(location.hash.slice(1)).split("/");
  Object.assign(state, { channel: channel || null, user: user || null });
  $("user").onchange = () => { state.user = $("user").value; select(state.channel); };
  $("command-form").onsubmit = command;
  ShopifyPanel.setup($("new-order"), { onPlaced: refresh, toast });
  refresh().then(() => state.channel && select(state.channel));
  setInterval(refresh, 1000);
}

document.addEventListener("DOMContentLoaded", start);
