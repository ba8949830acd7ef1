// The call screen: caseworker large, resident small, quality indicator, mute.
// Owns the answering CallPeer for the live call; a `call` for a new call id (after a reload or a
// requeue to another caseworker) replaces the old peer, and the caseworker's next offer sets it up.
// While the ticket is offered to a caseworker, a peer is prepared with the camera the device check
// opened, so the caseworker's offer is answered the moment it arrives.
import { endCapture } from "./capture_view.js";
import { hideAcceptance } from "./confirm_form.js";
import { renderMute, showQuality } from "../common/call_controls.js";
import { CallPeer } from "../common/call_peer.js";
import { watchQuality } from "../common/call_quality.js";
import { role, setText } from "./dom.js";
import { localStream } from "./media.js";
import * as screens from "./screens.js";
import { state } from "./state.js";
import { T } from "./texts.js";

let root;
let client;
let peer = null;
let spare = null; // prepared while the ticket is offered; the next call takes it
let stopQuality = () => {};
let muted = false;
let earlySignals = []; // signals that overtook their `call` message

/** Wire the call screen to the protocol client. */
export function setupCallScreen(wsClient) {
  client = wsClient;
  root = document.querySelector('[data-screen="call"]');
  root.querySelector('[data-action="mute"]').addEventListener("click", () => setMuted(!muted));
  role("enable-sound", root).addEventListener("click", () => {
    const video = remoteVideo();
    video.muted = false;
    video.play().catch(() => {});
    role("enable-sound", root).hidden = true;
  });
  screens.register("call", { enter: renderCall });
}

/** A `call` message (or welcome.state.call): show the call screen and get ready for the offer. */
export async function startCall(call, iceServers) {
  if (peer && peer.callId === call.call_id) {
    renderCall();
    return; // a resumed connection re-announces the same call; the peer carries on
  }
  const prepared = spare;
  spare = null;
  // Signals that overtook `call` (an offer that came before the prepared peer was ready) are
  // kept across the teardown of the previous call below.
  const early = earlySignals.filter((s) => s.call_id === call.call_id);
  endPeer();
  muted = false;
  screens.show("call");
  const stream = await deviceStream();
  if (!state.call || state.call.call_id !== call.call_id || peer?.callId === call.call_id) {
    // Ended while the camera opened, or the same call re-announced meanwhile already took a peer.
    prepared?.close();
    return;
  }
  if (prepared && prepared.localStream === stream) {
    peer = prepared;
  } else {
    prepared?.close();
    peer = newPeer(iceServers, stream);
  }
  peer.bind(call.call_id);
  // The prepared peer may have answered an offer that overtook `call`: its remote track arrived
  // before endPeer() above cleared the video, and no second track event will come.
  if (peer.remoteStream) showRemote(peer.remoteStream);
  renderCall(); // it may be connected already: no "connecting" notice over its video
  const local = root.querySelector('[data-testid="local-video"]');
  local.srcObject = stream;
  local.play().catch(() => {});
  stopQuality = watchQuality(peer, (level) => showQuality(root, level, T.quality));
  // And any that came while the camera opened.
  early.push(...earlySignals.filter((s) => s.call_id === call.call_id));
  earlySignals = [];
  for (const message of early) peer.handleSignal(message.data);
}

/**
 * The ticket is being offered to a caseworker: prepare the peer now, so that the offer that
 * follows the accept is answered at once.
 * @param {RTCIceServer[]} iceServers from welcome
 */
export async function prepareCall(iceServers) {
  if (spare || peer) return;
  const stream = await deviceStream();
  if (spare || peer) return; // a call started, or another offer prepared, while the camera opened
  spare = newPeer(iceServers, stream);
}

async function deviceStream() {
  try {
    return await localStream();
  } catch {
    return null; // no devices: the caseworker still gets a connection and can talk us through
  }
}

function newPeer(iceServers, stream) {
  return new CallPeer({
    role: "answerer",
    iceServers,
    iceTransportPolicy: state.iceTransportPolicy,
    localStream: stream,
    sendSignal: (callId, data) => client.send({ type: "signal", call_id: callId, data }),
    onRemoteStream: showRemote,
    onConnectionState: (connection) => {
      const overlay = role("call-overlay", root);
      if (connection === "connected") overlay.hidden = true;
      else if (connection === "new") {
        overlay.hidden = false;
        setText(overlay, "call_connecting");
      } else if (connection === "disconnected" || connection === "failed") {
        // The picture froze (this kiosk's network, or the way between): say so rather than show a
        // still frame, as the console does; the call recovers by itself (ICE restart).
        overlay.hidden = false;
        setText(overlay, "call_reconnecting");
      }
    },
  });
}

/** A `signal` from the caseworker. */
export function handleSignal(message) {
  if (peer && peer.callId === message.call_id) peer.handleSignal(message.data);
  else if (spare && !peer && state.ticket && state.ticket.session_id === message.call_id) {
    // The caseworker's offer came right behind their accept, ahead of our `call`: the prepared
    // peer answers it now, and startCall() adopts it when `call` arrives.
    if (!spare.callId) spare.bind(message.call_id);
    spare.handleSignal(message.data);
  } else earlySignals.push(message);
}

/**
 * A `peer` message: the caseworker's connection dropped or came back. `fresh` means their page
 * reloaded and will offer from a new peer connection: ours is replaced to take it.
 */
export function handlePeer(message) {
  if (!state.call || message.call_id !== state.call.call_id) return;
  const overlay = role("call-overlay", root);
  if (message.online && message.fresh && peer) {
    peer.renew();
    overlay.hidden = false;
    setText(overlay, "call_connecting");
  } else if (message.online) {
    overlay.hidden = peer?.connectionState === "connected";
    setText(overlay, "call_connecting");
  } else {
    overlay.hidden = false;
    setText(overlay, "peer_offline");
  }
}

/** Tear the call down, and any peer prepared for one (call_ended, idle, home). */
export function endPeer() {
  endCapture();
  hideAcceptance();
  stopQuality();
  stopQuality = () => {};
  peer?.close(); // the tracks are shared with the next resident; close() leaves them unmuted
  peer = null;
  spare?.close();
  spare = null;
  earlySignals = [];
  if (!root) return;
  remoteVideo().srcObject = null;
  root.querySelector('[data-testid="local-video"]').srcObject = null;
}

function renderCall() {
  role("call-title", root).textContent = state.call ? T.call_title(state.call.matter_name) : "";
  const overlay = role("call-overlay", root);
  overlay.hidden = peer?.connectionState === "connected";
  setText(overlay, state.call && !state.call.peer_online ? "peer_offline" : "call_connecting");
  renderMute(root, muted, setText);
}

function showRemote(stream) {
  const video = remoteVideo();
  if (video.srcObject !== stream) video.srcObject = stream;
  video.play().catch(() => {
    // Autoplay with sound refused (no touch since the page loaded, e.g. after a reload):
    // play muted so the picture shows, and offer a big button to turn the sound on.
    video.muted = true;
    video.play().catch(() => {});
    role("enable-sound", root).hidden = false;
  });
}

function setMuted(value) {
  muted = value;
  peer?.setMuted(muted);
  renderMute(root, muted, setText);
}

function remoteVideo() {
  return root.querySelector('[data-testid="remote-video"]');
}
