// Caseworker console entry point: sign in, connect, and route protocol messages to the parts.
//
// Flow: login → 接单 (available) → offer (ring) → accept → call (video, checklist, capture,
// outcome) → end call → wrap-up countdown → available again. The server's state is the truth:
// every `welcome` (first connect, reconnect, reload) carries agent, offer and call, and the page
// is rebuilt from it, so a reload in the middle of a call comes back into that call.
import { WsClient } from "../common/ws_client.js";
import {
  dropPreparedCall, endCall, handlePeer, handleSignal, prepareCall, sendPreparedOffer, setupCallView, startCall,
} from "./call_view.js";
import { startAppointments } from "./appointments.js";
import { startCallbacks } from "./callbacks.js";
import { requestCapture, resetCapture, restoreCaptures, setupCapture } from "./capture.js";
import { renderChecklist, setupChecklist } from "./checklist.js";
import { resetApplication, setupApplication } from "./application.js";
import { consentDeclined, renderConsent } from "./consent_status.js";
import { applyTexts, role } from "./dom.js";
import { currentCaseworker, logout, showLogin } from "./login.js";
import { releaseLocalStream } from "./media.js";
import { acceptOffer, currentOffer, rejectOffer, setupOffer, showOffer } from "./offer.js";
import { refreshMissing, resetOutcome, setupOutcome, submitOutcome } from "./outcome.js";
import { unlockAudioOnGesture } from "./ring.js";
import { trackServerClock } from "./server_clock.js";
import { clearSessions, noteEnded, refreshSessions } from "./sessions.js";
import { setupShortcuts } from "./shortcuts.js";
import { renderAgent, setConnected, setupStatus } from "./status.js";
import { T } from "./texts.js";
import { finishWrapUp, setupWrapUp, showWrapUp } from "./wrap_up.js";

const client = new WsClient();
const state = {
  agent: { state: "offline" },
  call: null,
  chosen: null, // what the outcome form sent for the live call
  lastEnded: null, // {matter_name, outcome, reason} of the call that just ended, for the wrap-up card
  iceServers: [],
};

async function boot() {
  document.title = T.title;
  applyTexts();
  unlockAudioOnGesture();
  if (!(await currentCaseworker())) await showLogin();
  startConsole();
}

function startConsole() {
  role("console").hidden = false;
  role("status-bar").hidden = false;
  setupStatus(client);
  setupOffer(client, { accepting: sendPreparedOffer, acceptFailed: dropPreparedCall });
  setupCallView(client);
  setupChecklist({ capture: requestCapture, change: refreshMissing });
  setupCapture(client);
  setupApplication(client);
  setupOutcome({ client, sending: (chosen) => { state.chosen = chosen; } });
  setupWrapUp(client);
  setupShortcuts({
    accept: acceptOffer,
    reject: rejectOffer,
    endCall: submitOutcome,
    finishWrapUp,
    offerShown: () => currentOffer() !== null,
  });
  role("status-bar").querySelector('[data-action="logout"]').addEventListener("click", signOut);
  trackServerClock(client);
  wireProtocol();
  setConnected(false);
  client.start();
}

function wireProtocol() {
  const banner = role("offline-banner");
  client.on("close", ({ wasConnected }) => {
    setConnected(false);
    if (!wasConnected) return;
    banner.textContent = T.offline_banner;
    banner.hidden = false;
  });
  client.on("fatal", () => {
    banner.textContent = T.fatal_banner;
    banner.hidden = false;
  });
  client.on("welcome", (welcome) => {
    banner.hidden = true;
    setConnected(true);
    state.iceServers = welcome.ice_servers || [];
    const user = welcome.user || {};
    role("user-label").textContent = user.display_name || user.username || "";
    role("centre-label").textContent = user.centre || "";
    refreshSessions();
    startCallbacks(user.id);
    startAppointments();
    const { agent, offer, call } = welcome.state || {};
    showOffer(offer || null);
    if (offer) prepareCall(state.iceServers);
    if (call) enterCall(call);
    else if (state.call) leaveCall(); // it ended while we were away
    onAgent(agent || { state: "offline" });
  });
  client.on("agent", ({ agent }) => onAgent(agent));
  client.on("offer", ({ offer }) => {
    showOffer(offer);
    prepareCall(state.iceServers);
    layout();
  });
  client.on("offer_withdrawn", ({ ticket_id: ticketId }) => {
    if (currentOffer()?.ticket_id === ticketId) showOffer(null);
    layout();
  });
  client.on("call", ({ call }) => enterCall(call));
  client.on("signal", handleSignal);
  client.on("peer", handlePeer);
  client.on("call_ended", onCallEnded);
}

function onAgent(agent) {
  state.agent = agent;
  renderAgent(agent);
  if (agent.state === "wrap_up" && agent.wrap_up_until) {
    const last = state.lastEnded;
    const line = last ? T.wrap_last(last.matter_name, T.ended_reasons[last.reason] || T.outcomes[last.outcome] || "") : "";
    showWrapUp(agent.wrap_up_until, line);
  } else {
    showWrapUp(null);
  }
  if (agent.state !== "offered" && currentOffer()) showOffer(null);
  // Rejected, timed out or withdrawn: the peer prepared for the offer is not needed.
  if (agent.state !== "offered" && agent.state !== "in_call") dropPreparedCall();
  layout();
}

/** A live call (new, or re-announced after a reconnect). */
function enterCall(call) {
  const isNew = state.call?.call_id !== call.call_id;
  state.call = call;
  if (isNew) {
    state.chosen = null;
    showOffer(null);
    renderConsent(call.consent);
    renderChecklist(call.materials || [], { captureBlocked: consentDeclined(call.consent) });
    resetCapture(call.call_id);
    restoreCaptures(call.session_id);
    resetOutcome(call);
    resetApplication(call);
  }
  startCall(call, state.iceServers);
  layout();
}

function onCallEnded(ended) {
  const call = state.call;
  if (!call || call.call_id !== ended.call_id) return;
  state.lastEnded = {
    matter_name: call.matter_name,
    outcome: ended.outcome || state.chosen?.outcome || "",
    reason: ended.reason === "ended" ? "" : ended.reason,
  };
  noteEnded(call.session_id, ended.reason);
  leaveCall();
  onAgent(state.agent); // refresh the wrap-up line with this session
  refreshSessions();
}

function leaveCall() {
  state.call = null;
  endCall();
  resetCapture(null);
  resetApplication(null);
  layout();
}

/** Which parts show: the call takes the stage and the work panel; otherwise offer, wrap-up or idle. */
function layout() {
  const inCall = state.call !== null;
  const wrapping = state.agent.state === "wrap_up" && !inCall;
  role("idle-card").hidden = inCall || wrapping || currentOffer() !== null;
  role("call-panel").hidden = !inCall;
  role("sessions-panel").hidden = inCall;
  role("callbacks-panel").hidden = inCall; // no phoning back during a video call
  role("appointments-panel").hidden = inCall;
  document.body.dataset.agentState = inCall ? "in_call" : state.agent.state;
}

async function signOut() {
  if (state.call) return; // finish the call first
  await client.request({ type: "set_status", status: "offline" }).catch(() => {});
  client.stop();
  await releaseLocalStream();
  clearSessions();
  await logout();
  location.reload();
}

boot();
