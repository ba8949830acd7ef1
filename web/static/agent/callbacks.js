// 回电 requests of the caseworker's centre (docs/agent.md "Callbacks"): the open ones by due time
// with overdue ones marked, numbers masked. 接手回电 takes one: its number then shows in full to this
// caseworker only, who calls it and closes the request as 已回电 or 联系不上 with a note, or hands it
// back to the list. The server's record is the truth: the list is read again every 20 s, on every
// (re)connect and after each action, so two caseworkers never both take the same request.
import { HttpError, getJson, postJson } from "../common/http.js";
import { el, role, showError } from "./dom.js";
import { T } from "./texts.js";

const REFRESH_MS = 20000;

let me = null; // the signed-in caseworker's user id: their taken callbacks show in full
let timer = null;
// Items drawn from the same record are kept, so a refresh never wipes a note being typed.
const drawn = new Map(); // callback id -> {key, node}

/** Start (or after a reconnect, refresh) the list for this caseworker. */
export function startCallbacks(userId) {
  me = userId;
  if (timer === null) timer = setInterval(refreshCallbacks, REFRESH_MS);
  return refreshCallbacks();
}

/** Read the open callbacks and this caseworker's taken ones and draw them (theirs first). */
export async function refreshCallbacks() {
  try {
    const [open, taken] = await Promise.all([getJson("/api/v1/callbacks", { state: "open" }),
      getJson("/api/v1/callbacks", { state: "taken" })]);
    // A colleague's taken callback is theirs to finish; the list shows what is left to do. Numbers
    // left for the 回访 of a bad rating (kind followup) are the supervisors' to call.
    const asked = (c) => c.kind !== "followup";
    render([...taken.items.filter((c) => c.taken_by === me && asked(c)), ...open.items.filter(asked)]);
    showError(role("callbacks-error"), "");
  } catch {
    // Offline or signed out: keep what is shown; the next refresh or reconnect reads it again.
  }
}

function render(items) {
  const seen = new Set();
  const nodes = items.map((c) => {
    seen.add(c.id);
    const key = JSON.stringify(c);
    const kept = drawn.get(c.id);
    if (kept && kept.key === key) return kept.node;
    const node = item(c);
    drawn.set(c.id, { key, node });
    return node;
  });
  for (const id of [...drawn.keys()]) if (!seen.has(id)) drawn.delete(id);
  role("callback-list").replaceChildren(...nodes);
  role("callbacks-empty").hidden = items.length > 0;
  const overdue = items.filter((c) => c.overdue).length;
  role("callback-counts").textContent = items.length ? T.callback_counts(items.length, overdue) : "";
}

/** "12-03 10:30": the due time in district time (the server sends it with its +08:00 offset). */
function dueText(iso) {
  return iso ? iso.slice(5, 16).replace("T", " ") : "";
}

function button(text, testid, onClick, extra = "") {
  const node = el("button", { class: `a-button a-small ${extra}`.trim(), text, attrs: { type: "button" },
    data: { testid } });
  node.addEventListener("click", onClick);
  return node;
}

function phoneLine(c) {
  // Only the taker's own callback carries the full number: a tel: link to dial from the desk.
  if (!c.phone_full) return el("strong", { class: "a-callback-phone", text: c.phone, data: { testid: "callback-phone-shown" } });
  return el("a", {
    class: "a-callback-phone", text: c.phone, attrs: { href: `tel:${c.phone.replace("-", "")}`, title: T.callback_dial },
    data: { testid: "callback-phone-shown" },
  });
}

function item(c) {
  const note = el("input", {
    class: "a-callback-note",
    attrs: { type: "text", maxlength: "500", placeholder: T.callback_note, "aria-label": T.callback_note },
    data: { testid: "callback-note" },
  });
  const error = el("p", { class: "a-error", attrs: { hidden: "", role: "alert" } });
  const act = async (state, buttons) => {
    for (const b of buttons) b.disabled = true;
    try {
      await postJson(`/api/v1/callbacks/${c.id}`, { state, note: note.value });
      await refreshCallbacks();
    } catch (failure) {
      showError(error, failure instanceof HttpError && failure.message ? failure.message : T.callback_failed);
      for (const b of buttons) b.disabled = false;
      if (failure instanceof HttpError && failure.status === 409) await refreshCallbacks();
    }
  };
  const actions = [];
  if (c.state === "open") {
    actions.push(button(T.callback_take, "callback-take", () => act("taken", actions), "a-primary"));
  } else if (c.state === "taken") {
    actions.push(
      button(T.callback_done, "callback-close", () => act("done", actions), "a-ok"),
      button(T.callback_unreachable, "callback-unreachable", () => act("unreachable", actions), "a-warn"),
      button(T.callback_release, "callback-release", () => act("open", actions), "a-quiet"),
    );
  }
  return el("li", {
    class: "a-callback",
    data: { testid: "callback-item", callbackId: String(c.id), state: c.state, overdue: c.overdue ? "1" : "0" },
  }, [
    el("div", { class: "a-callback-head" }, [
      el("span", { class: `a-callback-state a-callback-${c.state}`, text: T.callback_states[c.state] || c.state }),
      ...(c.overdue ? [el("span", { class: "a-badge", text: T.callback_overdue, data: { testid: "callback-overdue" } })] : []),
      phoneLine(c),
    ]),
    el("p", { class: "a-callback-matter", text: [c.matter_name || c.matter_id, c.preferred].filter(Boolean).join(" · ") }),
    el("p", { class: "a-callback-due", text: T.callback_due(dueText(c.due_at)), data: { testid: "callback-due" } }),
    ...(c.note ? [el("p", { class: "a-callback-log a-muted", text: c.note })] : []),
    ...(c.state === "taken" ? [note] : []),
    el("div", { class: "a-actions" }, actions),
    error,
  ]);
}
