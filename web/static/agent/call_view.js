// The call stage: the resident's video large, own preview small, quality indicator, mute, elapsed
// time. Owns the offering CallPeer of the live call. A `call` for the call already running (a
// resumed WebSocket re-announces it) keeps the peer; a reloaded page has no peer and starts a new one.
// While an offer rings, a peer is prepared with its offer made and its candidates gathered, so that
// accepting sends them at once (docs/agent.md, "Call set-up").
import { renderMute, showQuality } from "../common/call_controls.js";
import { CallPeer } from "../common/call_peer.js";
import { watchQuality } from "../common/call_quality.js";
import { role, setText } from "./dom.js";
import { localStream } from "./media.js";
import { startRecording, stopRecording } from "./recording.js";
import { T, clock } from "./texts.js";

let root;
let client;
let peer = null;
let spare = null; // prepared while an offer rings; the next call takes it
let call = null;
let stopQuality = () => {};
let elapsedTimer = null;
let muted = false;
let earlySignals = []; // signals that overtook their `call` message

/** Wire the call stage to the protocol client. */
export function setupCallView(wsClient) {
  client = wsClient;
  root = role("call-stage");
  root.querySelector('[data-action="mute"]').addEventListener("click", () => setMuted(!muted));
}

/** The live call's id, or null. */
export function currentCallId() {
  return call ? call.call_id : null;
}

/** Show the call and connect to the kiosk (`call` message or welcome.state.call). */
export async function startCall(newCall, iceServers) {
  const same = call && call.call_id === newCall.call_id;
  call = newCall;
  root.hidden = false;
  role("call-title", root).textContent = `${T.call_ticket(newCall.ticket_number)} · ${newCall.matter_name}`;
  if (same && peer) {
    // Our WebSocket came back during the call: the path may have changed too.
    if (peer.connectionState !== "connected") peer.recover();
    return;
  }
  closePeer();
  muted = false;
  renderMute(root, muted, setText);
  startElapsed();
  showOverlay(newCall.peer_online === false ? "peer_offline" : "call_connecting");
  showQuality(root, "unknown", T.quality);
  const stream = await localStream();
  // Ended while the camera opened, or the same call re-announced meanwhile already connected.
  if (!call || call.call_id !== newCall.call_id || peer?.callId === newCall.call_id) return;
  if (!stream) showOverlay("no_camera");
  const local = root.querySelector('[data-testid="local-video"]');
  local.srcObject = stream;
  local.play().catch(() => {});
  connect(newCall.call_id, iceServers, stream);
  // The call goes on whatever happens to its recording (the indicator says so).
  startRecording(newCall, root).catch((error) => console.warn("recording failed to start", error));
}

/**
 * An offer rings: open the camera (kept for later calls) and prepare a peer whose offer and
 * candidates are ready, so that accepting the offer starts the call without waiting for them.
 * @param {RTCIceServer[]} iceServers from welcome
 */
export async function prepareCall(iceServers) {
  if (spare || call) return;
  const stream = await localStream();
  if (spare || call) return; // a call started, or another offer prepared, while the camera opened
  spare = newPeer(iceServers, stream);
  spare.start();
}

/**
 * The caseworker accepted `ticketId`: the prepared offer and candidates go out now, right behind
 * the accept on the same socket (a call's id is its ticket's), instead of waiting for `call`.
 */
export function sendPreparedOffer(ticketId) {
  if (spare && !spare.callId) spare.bind(ticketId);
}

/** The offer went away without a call: drop the prepared peer (the camera stays open). */
export function dropPreparedCall() {
  spare?.close();
  spare = null;
}

function connect(callId, iceServers, stream) {
  const prepared = spare;
  spare = null;
  if (prepared && prepared.localStream === stream) {
    peer = prepared;
  } else {
    prepared?.close();
    peer = newPeer(iceServers, stream);
    peer.start();
  }
  peer.bind(callId);
  // The prepared peer may be connected already (the kiosk's answer overtook our `call`): its
  // state change came before the overlay above was shown.
  if (peer.connectionState === "connected") showOverlay(null);
  stopQuality = watchQuality(peer, (level) => showQuality(root, level, T.quality));
  const early = earlySignals.filter((s) => s.call_id === callId);
  earlySignals = [];
  for (const message of early) peer.handleSignal(message.data);
}

function newPeer(iceServers, stream) {
  return new CallPeer({
    role: "offerer",
    iceServers,
    localStream: stream,
    sendSignal: (callId, data) => client.send({ type: "signal", call_id: callId, data }),
    onRemoteStream: showRemote,
    onConnectionState: (state) => {
      if (state === "connected") showOverlay(null);
      else if (state === "disconnected" || state === "failed") showOverlay("reconnecting");
    },
  });
}

/** A `signal` from the kiosk. */
export function handleSignal(message) {
  if (peer && peer.callId === message.call_id) peer.handleSignal(message.data);
  // The kiosk's answer may overtake our `call`: the prepared peer that offered takes it at once.
  else if (spare && spare.callId === message.call_id) spare.handleSignal(message.data);
  else earlySignals.push(message);
}

/**
 * A `peer` message: the kiosk dropped, or came back. A kiosk whose page reloaded (`fresh`) has a
 * brand-new peer connection that cannot continue ours: the peer starts over with a new offer.
 * Otherwise its connection survived, and an ICE-restart offer recovers the path (per protocol), or,
 * when our first offer is still unanswered (lost while its socket was down), a new offer.
 */
export function handlePeer(message) {
  if (!call || message.call_id !== call.call_id) return;
  if (!message.online) {
    showOverlay("peer_offline");
    return;
  }
  if (message.fresh && peer) {
    showOverlay("call_connecting");
    peer.renew();
    return;
  }
  showOverlay(peer?.connectionState === "connected" ? null : "call_connecting");
  peer?.recover();
}

/** Tear the call down (call_ended, sign-out). */
export function endCall() {
  call = null;
  stopRecording().catch((error) => console.warn("recording failed to stop", error));
  closePeer();
  clearInterval(elapsedTimer);
  earlySignals = [];
  if (!root) return;
  root.hidden = true;
  root.querySelector('[data-testid="remote-video"]').srcObject = null;
  root.querySelector('[data-testid="local-video"]').srcObject = null;
}

function closePeer() {
  stopQuality();
  stopQuality = () => {};
  peer?.close(); // the stream is kept for the next call; close() leaves it unmuted
  peer = null;
}

function showRemote(stream) {
  const video = root.querySelector('[data-testid="remote-video"]');
  if (video.srcObject !== stream) video.srcObject = stream;
  video.play().catch(() => {
    // Autoplay with sound refused (reloaded page, no click yet): show the picture muted; the
    // first click anywhere turns the sound on.
    video.muted = true;
    video.play().catch(() => {});
    document.addEventListener("pointerdown", () => { video.muted = false; }, { once: true });
  });
}

function showOverlay(key) {
  const overlay = role("call-overlay", root);
  overlay.hidden = !key;
  if (key) setText(overlay, key);
}

function startElapsed() {
  clearInterval(elapsedTimer);
  const started = Date.now();
  const node = role("call-elapsed", root);
  const tick = () => { node.textContent = `${T.call_elapsed} ${clock((Date.now() - started) / 1000)}`; };
  tick();
  elapsedTimer = setInterval(tick, 1000);
}

function setMuted(value) {
  muted = value;
  peer?.setMuted(muted);
  renderMute(root, muted, setText);
}
