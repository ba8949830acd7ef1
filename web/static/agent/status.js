// Status controls (接单 / 小休 with a reason / 下线), the state pill, and the idle card that
// says what the caseworker is waiting for. The server's `agent` view is the truth: buttons only
// send `set_status`, and what is shown changes when the next `agent` message arrives.
import { el, role, showError } from "./dom.js";
import { T, errorText } from "./texts.js";

// A caseworker in an offer, a call or wrap-up finishes that first (the queue refuses otherwise).
const BUSY = new Set(["offered", "in_call"]);

let client;
let connected = false;
let lastAgent = null;

/** Wire the status buttons to the protocol client. */
export function setupStatus(wsClient) {
  client = wsClient;
  const reasons = role("break-reason");
  reasons.replaceChildren(...T.break_reasons.map((reason) => el("option", { text: reason, attrs: { value: reason } })));
  const bar = role("status-bar");
  bar.querySelector('[data-action="status-available"]').addEventListener("click", () => setStatus("available"));
  bar.querySelector('[data-action="status-break"]').addEventListener("click", () => setStatus("break", reasons.value));
  bar.querySelector('[data-action="status-offline"]').addEventListener("click", () => setStatus("offline"));
}

async function setStatus(status, reason = "") {
  const error = role("status-error");
  showError(error, "");
  try {
    await client.request({ type: "set_status", status, reason });
  } catch (failure) {
    showError(error, T.status_failed + errorText(failure));
  }
}

/** Connected (welcome) or not (socket closed): requests cannot be sent while not. */
export function setConnected(value) {
  connected = value;
  if (!connected) {
    const pill = role("agent-state");
    pill.dataset.state = "connecting";
    pill.textContent = T.connecting_short;
  }
  renderButtons(connected ? lastAgent?.state : null);
}

/** Show an `agent` view: pill, which buttons make sense, and the idle card's words. */
export function renderAgent(agent) {
  lastAgent = agent;
  const state = agent?.state || "offline";
  if (connected) {
    const pill = role("agent-state");
    pill.dataset.state = state;
    pill.textContent = state === "break" && agent.reason ? `${T.agent_state.break} · ${breakReason(agent)}` : T.agent_state[state];
  }
  renderButtons(connected ? state : null);

  const title = role("idle-title");
  const body = role("idle-body");
  if (state === "available") {
    title.textContent = T.idle_available_title;
    body.textContent = T.idle_available_body;
  } else if (state === "break") {
    title.textContent = T.idle_break_title(breakReason(agent));
    body.textContent = agent.reason === "missed_offer" ? T.idle_missed_body : T.idle_break_body;
  } else {
    title.textContent = T.idle_offline_title;
    body.textContent = T.idle_offline_body;
  }
}

// state null = not connected: every control off.
function renderButtons(state) {
  const bar = role("status-bar");
  const off = state === null || BUSY.has(state);
  bar.querySelector('[data-action="status-available"]').disabled = off || state === "available";
  bar.querySelector('[data-action="status-break"]').disabled = off;
  bar.querySelector('[data-action="status-offline"]').disabled = off || state === "offline";
  role("break-reason").disabled = off;
}

function breakReason(agent) {
  return agent.reason === "missed_offer" ? T.missed_offer : agent.reason || "";
}
