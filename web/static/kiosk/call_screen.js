// The call screen: caseworker large, resident small, quality indicator, mute.
// Owns the CallPeer for the live call; a `call` for a new call id (after a reload or a requeue
// to another caseworker) replaces the old peer, and the caseworker's next offer sets it up.
import { CallPeer } from "./call.js";
import { endCapture } from "./capture_view.js";
import { watchQuality } from "../common/call_quality.js";
import { role, setText } from "./dom.js";
import { localStream } from "./media.js";
import * as screens from "./screens.js";
import { state } from "./state.js";
import { T } from "./texts.js";

let root;
let client;
let peer = null;
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
  endPeer();
  muted = false;
  screens.show("call");
  let stream = null;
  try {
    stream = await localStream();
  } catch {
    stream = null; // no devices: the caseworker still gets a connection and can talk us through
  }
  if (!state.call || state.call.call_id !== call.call_id) return; // ended while the camera opened
  peer = new CallPeer({
    callId: call.call_id,
    iceServers,
    iceTransportPolicy: state.iceTransportPolicy,
    localStream: stream,
    sendSignal: (data) => client.send({ type: "signal", call_id: call.call_id, data }),
    onRemoteStream: showRemote,
    onConnectionState: (connection) => {
      if (connection === "connected") role("call-overlay", root).hidden = true;
      else if (connection === "new") {
        const overlay = role("call-overlay", root);
        overlay.hidden = false;
        setText(overlay, "call_connecting");
      }
    },
  });
  const local = root.querySelector('[data-testid="local-video"]');
  local.srcObject = stream;
  local.play().catch(() => {});
  stopQuality = watchQuality(peer, showQuality);
  const early = earlySignals.filter((s) => s.call_id === call.call_id);
  earlySignals = [];
  for (const message of early) peer.handleSignal(message.data);
}

/** A `signal` from the caseworker. */
export function handleSignal(message) {
  if (peer && peer.callId === message.call_id) peer.handleSignal(message.data);
  else earlySignals.push(message);
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
    overlay.hidden = peer?.pc.connectionState === "connected";
    setText(overlay, "call_connecting");
  } else {
    overlay.hidden = false;
    setText(overlay, "peer_offline");
  }
}

/** Tear the call down (call_ended, idle, home). */
export function endPeer() {
  endCapture();
  stopQuality();
  stopQuality = () => {};
  if (peer) {
    peer.setMuted(false); // the tracks are shared: the next resident must not start muted
    peer.close();
  }
  peer = null;
  earlySignals = [];
  if (!root) return;
  remoteVideo().srcObject = null;
  root.querySelector('[data-testid="local-video"]').srcObject = null;
}

function renderCall() {
  role("call-title", root).textContent = state.call ? T.call_title(state.call.matter_name) : "";
  const overlay = role("call-overlay", root);
  overlay.hidden = peer?.pc.connectionState === "connected";
  setText(overlay, state.call && !state.call.peer_online ? "peer_offline" : "call_connecting");
  renderMute();
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

function showQuality(level) {
  const indicator = root.querySelector('[data-testid="call-quality"]');
  indicator.dataset.level = level;
  role("quality-text", root).textContent = T.quality[level];
}

function setMuted(value) {
  muted = value;
  if (peer) peer.setMuted(muted);
  renderMute();
}

function renderMute() {
  const button = root.querySelector('[data-action="mute"]');
  button.setAttribute("aria-pressed", String(muted));
  button.classList.toggle("is-muted", muted);
  setText(button, muted ? "unmute" : "mute");
}

function remoteVideo() {
  return root.querySelector('[data-testid="remote-video"]');
}
