// Kiosk entry point: sign in, connect, and route protocol messages to the screens.
//
// Flow: start → catalog → matter → device check → consent notice → availability and priority → (join) waiting
// → call → ended → rating → thanks
// → start. The server's state is the truth: every `welcome` (first connect, reconnect, reload)
// puts the kiosk back on the screen that state calls for, so a reload never loses the ticket.
import * as api from "./api.js";
import { endPeer, handlePeer, handleSignal, prepareCall, setupCallScreen, startCall } from "./call_screen.js";
import { setupAppointment } from "./appointment.js";
import { setupCheckin } from "./appointment_checkin.js";
import { setupAvailability } from "./availability.js";
import { setupCallback } from "./callback.js";
import { setupCaptureView } from "./capture_view.js";
import { restoreConfirmForm, setupConfirmForm } from "./confirm_form.js";
import { setupSignature } from "./signature.js";
import { setupConsent } from "./consent.js";
import { resetCatalog, setupCatalog } from "./catalog.js";
import { setupDeviceCheck } from "./device_check.js";
import { applyTexts, role, setText } from "./dom.js";
import { setupEnded } from "./ended.js";
import { idleSeconds, startIdleTimer } from "./idle.js";
import { openMatter, setupMatter } from "./matter.js";
import { releaseLocalStream } from "./media.js";
import { setupFollowupPhone } from "./followup_phone.js";
import { forgetEnd, recentEnd, rememberEnd } from "./last_end.js";
import { setupRating } from "./rating.js";
import * as screens from "./screens.js";
import { resetResident, state } from "./state.js";
import { T } from "./texts.js";
import { renderTicket, setNote, setupWaiting } from "./waiting.js";
import { WsClient } from "../common/ws_client.js";

const OPEN_TICKET_STATES = new Set(["waiting", "offered"]);
const CLOSED_TICKET_STATES = new Set(["done", "cancelled", "abandoned"]);
// Screens where a resident sits still on purpose: the idle timeout must not throw them out.
const IDLE_EXEMPT = new Set(["boot", "waiting", "call"]);
const THANKS_MS = 8000;
// Ratings at or below this open a follow-up (回访) on the server (server/reports/ratings.py).
const FOLLOW_UP_AT_OR_BELOW = 2;

const client = new WsClient();
let iceServers = [];
let thanksTimer = null;

async function boot() {
  applyTexts();
  setupLargeText();
  if (!(await signIn())) return;
  setupScreens();
  screens.show("boot"); // until the first welcome says where the resident stands
  wireProtocol();
  const idle = startIdleTimer({
    seconds: idleSeconds(),
    isExempt: () => IDLE_EXEMPT.has(screens.currentScreen()),
    onIdle: goHome,
  });
  screens.onChange(() => idle.reset());
  keepBackInside();
  client.start();
}

/** The browser's Back (a key, an edge swipe) must not take the kiosk out of its page to a blank
 * one: it is the screen's own 返回 while browsing, and nothing in line or in a call. */
function keepBackInside() {
  history.pushState({ kiosk: true }, "");
  window.addEventListener("popstate", () => {
    history.pushState({ kiosk: true }, "");
    if (screens.canGoBack()) screens.back();
  });
}

/** Token from the address (first start) or the session cookie (every later load). */
async function signIn() {
  const params = new URLSearchParams(location.search);
  const token = params.get("token");
  if (token) {
    // Drop the device token from the address at once: it must not sit in history or on screen.
    params.delete("token");
    const query = params.toString();
    history.replaceState(null, "", location.pathname + (query ? `?${query}` : ""));
    try {
      showSite(await api.signIn(token));
      return true;
    } catch {
      showNotRegistered(T.sign_in_failed);
      return false;
    }
  }
  try {
    const me = await api.whoAmI();
    if (me.role === "kiosk") return true;
  } catch {
    // 401: no kiosk session on this browser
  }
  showNotRegistered(T.not_registered_body);
  return false;
}

function showNotRegistered(body) {
  document.body.classList.add("not-registered");
  setText(role("boot-title"), "not_registered_title");
  role("boot-body").textContent = body;
}

function showSite(kiosk) {
  role("site-label").textContent = kiosk?.site || kiosk?.label || "";
}

function setupScreens() {
  document.addEventListener("click", (event) => {
    const action = event.target.closest("[data-action]")?.dataset.action;
    if (action === "back") screens.back();
    if (action === "home") goHome();
    if (action === "pick-mode") {
      state.mode = event.target.closest("[data-mode]").dataset.mode;
      screens.show("catalog", null, { push: true });
    }
  });
  setupCatalog({ onPick: (id) => openMatter(id).catch(() => {}) });
  setupMatter({ onStart: () => screens.show("device", null, { push: true }) });
  setupDeviceCheck({ next: () => screens.show("consent", null, { push: true }), send: (message) => client.send(message) });
  setupConsent({
    next: (consent) => {
      state.consent = consent; // sent with the join, after the availability and priority step
      screens.show("availability", null, { push: true });
    },
  });
  setupAvailability({ join });
  setupCallback({ request: (message) => client.request(message) });
  setupAppointment({ request: (message) => client.request(message) });
  setupCheckin({ request: (message) => client.request(message) });
  setupWaiting({ cancel });
  setupCallScreen(client);
  setupCaptureView(client);
  setupConfirmForm(client);
  setupSignature();
  setupEnded({
    goRate: () => {
      forgetEnd(); // seen: a reload from the rating on starts at home, for whoever is there then
      screens.show("rating");
    },
  });
  const thanks = () => {
    screens.show("thanks");
    thanksTimer = setTimeout(goHome, THANKS_MS);
  };
  setupRating({
    submit: (sessionId, score, comment) => client.request({ type: "rate", session_id: sessionId, score, comment }),
    done: (rated, score) => {
      if (!rated) return goHome();
      // A 1-2 star rating opens a 回访: offer (only offer) to leave a number for it.
      if (score <= FOLLOW_UP_AT_OR_BELOW) return screens.show("followup-phone");
      thanks();
    },
  });
  setupFollowupPhone({ request: (message) => client.request(message), done: thanks });
  screens.register("thanks", { leave: () => clearTimeout(thanksTimer) });
}

function wireProtocol() {
  const banner = role("offline-banner");
  client.on("close", ({ wasConnected }) => {
    if (!wasConnected) return;
    // In line the number is kept for minutes (the grace); a call waits only half a minute for the
    // kiosk to come back, so there the banner promises nothing it cannot keep.
    setText(banner, screens.currentScreen() === "call" ? "offline_call" : "offline");
    banner.hidden = false;
  });
  client.on("fatal", () => {
    // The kiosk session was revoked (terminal disabled) or a client bug: stop and say so.
    banner.hidden = true;
    endPeer();
    releaseLocalStream();
    resetResident();
    screens.show("boot");
    showNotRegistered(T.not_registered_body);
  });
  client.on("welcome", (welcome) => {
    banner.hidden = true;
    iceServers = welcome.ice_servers || [];
    state.iceTransportPolicy = welcome.ice_transport_policy || "all";
    state.kiosk = welcome.kiosk;
    showSite(welcome.kiosk);
    restore(welcome.state || {});
  });
  client.on("ticket", ({ ticket }) => onTicket(ticket));
  client.on("call", ({ call }) => {
    state.call = call;
    startCall(call, iceServers);
    restoreConfirmForm(call); // after startCall: a new call clears the panel first
  });
  client.on("signal", handleSignal);
  client.on("peer", handlePeer);
  client.on("call_ended", onCallEnded);
  client.on("service_notice", (notice) => {
    // The server ended the waiting ticket (centre closed, nobody to serve): say so, not just go home.
    if (state.ticket && state.ticket.session_id !== notice.session_id) return;
    state.ticket = null;
    state.matter = state.matter || { id: notice.matter_id }; // a 回电 is offered about the same matter
    screens.show("availability", notice);
  });
}

/** Put the screen in line with the server's state after (re)connecting. */
function restore({ ticket, call }) {
  if (call) {
    state.ticket = ticket || state.ticket;
    state.call = call;
    startCall(call, iceServers);
    restoreConfirmForm(call);
    return;
  }
  // A call shown here that the welcome no longer has ended while this kiosk's socket was down, so
  // its `call_ended` went nowhere: tear it down as that message would, then follow the ticket
  // (back in line after a transfer or a caseworker's drop), or show what came of the call.
  const endedCall = state.call;
  if (endedCall) {
    endPeer();
    state.call = null;
  }
  const current = screens.currentScreen();
  if (ticket && OPEN_TICKET_STATES.has(ticket.state)) {
    if (endedCall) screens.show("waiting", "waiting_call_interrupted");
    onTicket(ticket);
    return;
  }
  if (endedCall) {
    showMissedEnd(endedCall.call_id);
    return;
  }
  const kept = current === "boot" && !ticket ? recentEnd() : null;
  if (kept) {
    // Reloaded on the ended screen: what came of the call again, then the rating.
    state.rateSessionId = kept.session_id;
    screens.show("ended", kept);
    return;
  }
  const closed = !ticket || CLOSED_TICKET_STATES.has(ticket.state);
  if (current === "boot" || ((current === "waiting" || current === "call") && closed)) goHome();
}

/** The call ended while this kiosk was away: show its outcome, 受理编号 and receipt as `call_ended`
 * would have (then the rating), or go home when it ended without one (the caseworker left). */
async function showMissedEnd(sessionId) {
  let result;
  try {
    result = await api.sessionResult(sessionId);
  } catch {
    result = null; // unreadable: home, as before the outcome could be asked for
  }
  if (state.call || (state.ticket && state.ticket.session_id !== sessionId)) return; // moved on meanwhile
  if (!result || !result.outcome) {
    goHome();
    return;
  }
  state.ticket = null;
  onCallEnded({ session_id: sessionId, reason: "ended", outcome: result.outcome, case_number: result.case_number || "" });
}

function onTicket(ticket) {
  const current = screens.currentScreen();
  if (CLOSED_TICKET_STATES.has(ticket.state)) {
    state.ticket = null;
    if (current === "waiting") goHome();
    return;
  }
  state.ticket = ticket;
  if (ticket.state === "wrap_up") {
    state.rateSessionId = ticket.session_id;
    return;
  }
  if (!OPEN_TICKET_STATES.has(ticket.state)) return;
  if (ticket.state === "offered") prepareCall(iceServers);
  if (current === "waiting") renderTicket();
  else if (current !== "call") screens.show("waiting");
}

function onCallEnded(ended) {
  endPeer();
  state.call = null;
  if (ended.reason === "peer_gone" || ended.reason === "transferred") {
    // Back in line with the same number; `ticket` updates follow.
    screens.show("waiting", ended.reason === "peer_gone" ? "waiting_requeued" : "waiting_transferred");
    return;
  }
  state.rateSessionId = ended.session_id;
  rememberEnd(ended);
  screens.show("ended", ended);
}

/** Queue the resident with their answer to the notice and the priority they chose (rejects with the
 * server's error, e.g. `closed`, which the availability screen shows). */
async function join(priority) {
  await client.request({
    type: "join", matter_id: state.matter.id, mode: state.mode, priority, consent: state.consent || undefined,
  });
  if (screens.currentScreen() === "availability") screens.show("waiting");
}

async function cancel() {
  try {
    await client.request({ type: "cancel" });
  } catch (error) {
    if (error.code !== "no_ticket") return; // still in line; the resident can try again
  }
  state.ticket = null;
  goHome();
}

/** Forget this resident and return to the start screen (home button, idle timeout, thanks). */
function goHome() {
  forgetEnd();
  endPeer();
  releaseLocalStream();
  resetResident();
  resetCatalog();
  setLargeText(false);
  setNote(null);
  screens.show("start");
}

function setupLargeText() {
  role("large-toggle").addEventListener("click", () => {
    setLargeText(!document.documentElement.classList.contains("k-large"));
  });
}

function setLargeText(on) {
  // On <html>: every size is in rem, so scaling the root scales the whole page.
  document.documentElement.classList.toggle("k-large", on);
  const toggle = role("large-toggle");
  toggle.setAttribute("aria-pressed", String(on));
  setText(toggle, on ? "large_off" : "large_on");
}

boot();
