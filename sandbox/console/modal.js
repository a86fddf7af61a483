// The console's modals: the top of the acting user's modal stack with its inputs, submitted through the control
// API (POST /views/{id}/submit), and Slack's confirmation dialog for buttons that ask first.
"use strict";

// Slack's confirmation dialog for a button with "confirm".
function askConfirm(confirm) {
  return new Promise((resolve) => {
    const layer = $("confirm-layer");
    $("confirm-title").replaceChildren(Mrkdwn.text(confirm.title, ctx()));
    $("confirm-text").replaceChildren(Mrkdwn.text(confirm.text, ctx()));
    $("confirm-yes").textContent = confirm.confirm?.text || "Yes";
    $("confirm-no").textContent = confirm.deny?.text || "Cancel";
    $("confirm-yes").className = "bk-button " + (confirm.style === "danger" ? "bk-danger" : "bk-primary");
    layer.hidden = false;
    const done = (ok) => { layer.hidden = true; resolve(ok); };
    $("confirm-yes").onclick = () => done(true);
    $("confirm-no").onclick = () => done(false);
  });
}

// The top of the user's modal stack, as Slack shows it; a submitted or cancelled one stays hidden until it changes.
function drawModal() {
  const mine = state.views.filter((v) => v.user === state.user && v.type === "modal");
  const view = mine[mine.length - 1];
  const layer = $("modal-layer");
  const sig = view ? JSON.stringify([view.id, view.hash, view.blocks]) : null;
  if (!view || state.dismissed[view.id] === sig) {
    layer.hidden = true;
    state.drawn.modal = null;
    return;
  }
  // One form per drawn version: the loading view's update to the form (or a response_action update) starts afresh.
  const form = state.forms[sig] ||= { values: {}, errors: {} };
  const key = JSON.stringify([sig, form.errors]);
  layer.hidden = false;
  if (state.drawn.modal === key) return;
  state.drawn.modal = key;
  const modal = $("modal");
  modal.dataset.viewId = view.id;
  $("modal-title").replaceChildren(Mrkdwn.text(view.title, ctx()));
  const suggest = async (block, element, value) => (await api(`/console/api/views/${view.id}/suggest`,
    { action_id: element.action_id, block_id: block.block_id, user: state.user, value }).catch(() => ({}))).options || [];
  const onAction = (a) => act(`/views/${view.id}/actions`, actionBody(a), "click");
  $("modal-body").replaceChildren(BlockKit.render(view.blocks, ctx({ form, suggest, onAction })));
  const full = state.ws.view_buttons?.[view.id] || {};  // GET /views leaves out the modal's button labels
  $("modal-submit").hidden = !hasInputs(view);
  $("modal-submit").textContent = full.submit?.text || "Submit";
  $("modal-close").textContent = full.close?.text || (hasInputs(view) ? "Cancel" : "Close");
  $("modal-close").onclick = () => { state.dismissed[view.id] = sig; drawModal(); };
  $("modal-submit").onclick = () => submit(view, form, sig);
}

function hasInputs(view) {
  return view.blocks.some((b) => b.type === "input");
}

async function submit(view, form, sig) {
  const values = {}, missing = {};
  for (const block of view.blocks.filter((b) => b.type === "input")) {
    const value = block.block_id in form.values ? form.values[block.block_id] : BlockKit.initial(block.element);
    const empty = value === undefined || value === null || value === "" || (Array.isArray(value) && !value.length);
    if (!empty) values[block.block_id] = value;
    else if (!block.optional) missing[block.block_id] = "Please complete this required field.";
  }
  if (Object.keys(missing).length) {  // Slack's client refuses the submission itself; the app never sees it
    form.errors = missing;
    state.drawn.modal = null;
    return drawModal();
  }
  $("modal-submit").disabled = true;
  try {
    const reply = await api(`/views/${view.id}/submit`, { user: state.user, values });
    if (reply.errors) {
      form.errors = reply.errors;  // Slack shows response_action errors under their inputs; the modal stays
    } else if (answered(reply, "submit")) {
      form.errors = {};
      state.dismissed[view.id] = sig;
    }
  } catch (err) {
    toast(`submit: ${err.message}`, true);
  } finally {
    $("modal-submit").disabled = false;
    state.drawn.modal = null;
    drawModal();
    refresh();
  }
}
