// One side of the WebRTC call, for the kiosk and the console alike (docs/protocol.md, "Signaling").
//
// The caseworker is always the offerer, including every ICE-restart offer, and the kiosk always
// answers, so there is no glare to resolve. Signals are applied strictly in order; candidates that
// arrive before the remote description are held and added right after it. A restart asked for
// while an offer is still unanswered is held and sent once the answer arrives.
//
// When the other side's page reloads mid-call it starts a brand-new RTCPeerConnection (new DTLS
// fingerprint) that the established connection cannot talk to. Both sides then start over with a
// fresh connection of their own: on a `peer` message saying the other side is fresh (renew()), on
// an offer whose fingerprint differs from the one in use, or when a description cannot be applied.
// The offerer follows every fresh connection with a new offer; the answerer waits for it.
//
// A peer is made before its call is known: the console prepares one while an offer rings, so its
// offer and candidates are ready, and the kiosk one while its ticket is offered. Whatever it would
// send meanwhile is held and goes out, in order, when bind() names the call (= session id).

// A null candidate means gathering is over: an empty candidate string says so to the other side,
// which lets an aiortc peer stop waiting for more.
const END_OF_CANDIDATES = { candidate: "", sdpMid: null, sdpMLineIndex: null };

// The offerer also restarts ICE when nothing at all has arrived for SILENCE_MS (no media, no RTCP,
// no consent answers): Chromium takes 5 s or more to call a dead path "disconnected" (a restarted
// TURN server, a NAT that dropped its binding), and a loaded machine longer. A restart that did
// not bring anything back is tried again every RETRY_MS while the silence lasts.
const SILENCE_MS = 1500;
const RETRY_MS = 5000;
const WATCH_MS = 500;

/**
 * Bytes received by the connection so far: its transports' count (Chromium, Safari), else the
 * selected candidate pair's (Firefox has no transport stats), else its RTP streams'; null when the
 * report has none of them.
 */
export function receivedBytes(report) {
  let transport = null;
  let pair = null;
  let rtp = null;
  report.forEach((stat) => {
    if (stat.type === "transport" && stat.bytesReceived != null) transport = (transport || 0) + stat.bytesReceived;
    if (stat.type === "candidate-pair" && (stat.selected || stat.nominated) && stat.bytesReceived != null) {
      pair = Math.max(pair || 0, stat.bytesReceived);
    }
    if (stat.type === "inbound-rtp" && stat.bytesReceived != null) rtp = (rtp || 0) + stat.bytesReceived;
  });
  return transport ?? pair ?? rtp;
}

export class CallPeer {
  /**
   * @param {object} options
   * @param {"offerer"|"answerer"} options.role the caseworker offers, the kiosk answers
   * @param {RTCIceServer[]} options.iceServers from welcome
   * @param {"all"|"relay"} [options.iceTransportPolicy] from welcome: "relay" sends media only through TURN
   * @param {MediaStream|null} options.localStream camera + microphone
   * @param {(callId: string, data: object) => void} options.sendSignal relays `data` to the other side
   * @param {(stream: MediaStream) => void} options.onRemoteStream the other side's media arrived
   * @param {(state: string) => void} [options.onConnectionState] RTCPeerConnection.connectionState
   */
  constructor({
    role, iceServers, iceTransportPolicy = "all", localStream, sendSignal, onRemoteStream, onConnectionState = () => {},
  }) {
    this.offerer = role === "offerer";
    this.callId = null; // until bind()
    this.iceServers = iceServers || [];
    this.iceTransportPolicy = iceTransportPolicy;
    this.localStream = localStream;
    this.sendSignal = sendSignal;
    this.onRemoteStream = onRemoteStream;
    this.onConnectionState = onConnectionState;
    this.closed = false;
    this.muted = false;
    this.outbox = []; // signals made before the call was known
    this.chain = Promise.resolve();
    this.pc = null;
    this.remoteStream = null; // the other side's media, once its first track arrived
    this.lastRestart = 0;
    this.createConnection();
    this.silenceTimer = this.offerer ? setInterval(() => this.checkSilence(), WATCH_MS) : null;
  }

  /** Name the peer's call: the signals held so far go out now, in order, and later ones at once. */
  bind(callId) {
    this.callId = callId;
    const held = this.outbox;
    this.outbox = [];
    for (const data of held) this.sendSignal(callId, data);
  }

  /** The offerer's first offer. */
  start() {
    return this.enqueue(() => this.offer(false));
  }

  /**
   * Offerer: send an ICE-restart offer now, or as soon as the pending offer is answered.
   * @param {{unlessRecent?: boolean}} [options] skip it when one went out less than RETRY_MS ago
   */
  restartIce({ unlessRecent = false } = {}) {
    if (this.closed || !this.offerer) return;
    if (unlessRecent && performance.now() - this.lastRestart < RETRY_MS) return;
    if (this.pc.signalingState !== "stable") {
      this.restartWanted = true;
      return;
    }
    this.enqueue(() => this.offer(true));
  }

  /**
   * Offerer, after either side's socket came back during the call. Signals are not stored: an
   * offer sent while the other side's socket was down is lost, and its answer never comes. A
   * first offer still unanswered (never connected) therefore starts over with a new connection
   * and offer, as for a page that started over; otherwise an ICE restart recovers the path.
   */
  recover() {
    if (this.closed || !this.offerer) return;
    if (this.pc.signalingState === "have-local-offer" && !this.pc.currentRemoteDescription) {
      this.renew();
      return;
    }
    this.restartIce();
  }

  /**
   * The other side's page started over (`peer` fresh): drop the old connection. The offerer sends a
   * new offer at once; the answerer waits for it, keeping a connection that has not yet been used.
   */
  renew() {
    return this.enqueue(async () => {
      if (this.closed) return;
      if (this.offerer) {
        this.replaceConnection();
        await this.offer(false);
      } else if (this.pc.remoteDescription) {
        this.replaceConnection();
      }
    });
  }

  /** Apply one `signal` payload from the other side. */
  handleSignal(data) {
    return this.enqueue(() => this.apply(data));
  }

  /** Mute or unmute the microphone (the track keeps sending silence: no renegotiation). */
  setMuted(muted) {
    this.muted = muted;
    for (const sender of this.pc.getSenders()) {
      if (sender.track && sender.track.kind === "audio") sender.track.enabled = !muted;
    }
  }

  /** The current connection's state (`new` until the first offer is applied). */
  get connectionState() {
    return this.pc.connectionState;
  }

  /** Stats for the quality indicator. */
  getStats() {
    return this.pc.getStats();
  }

  /** Hang up for good. The tracks are shared with the next call: they are left unmuted, not stopped. */
  close() {
    this.setMuted(false);
    this.closed = true;
    clearInterval(this.silenceTimer);
    this.pc.close();
  }

  enqueue(step) {
    this.chain = this.chain.then(step).catch((error) => console.error("signaling step failed", error));
    return this.chain;
  }

  createConnection() {
    const pc = new RTCPeerConnection({
      iceServers: this.iceServers,
      iceTransportPolicy: this.iceTransportPolicy,
      // The answerer is made while its ticket is offered: gathering its candidates then means they
      // go out with its answer instead of after it. (The offerer gathers for its prepared offer.)
      iceCandidatePoolSize: this.offerer ? 0 : 1,
    });
    this.pc = pc;
    this.remoteStream = null;
    this.pendingCandidates = [];
    this.restartWanted = false;
    const tracks = this.localStream ? this.localStream.getTracks() : [];
    for (const track of tracks) pc.addTrack(track, this.localStream);
    if (this.offerer) {
      // Receive the other side's camera and microphone even when this side has no devices.
      const kinds = new Set(tracks.map((track) => track.kind));
      for (const kind of ["audio", "video"]) {
        if (!kinds.has(kind)) pc.addTransceiver(kind, { direction: "recvonly" });
      }
    }
    const remoteStream = new MediaStream();
    pc.addEventListener("track", (event) => {
      if (pc !== this.pc) return;
      const stream = event.streams[0] || remoteStream;
      if (!event.streams[0]) remoteStream.addTrack(event.track);
      this.remoteStream = stream;
      this.onRemoteStream(stream);
    });
    pc.addEventListener("icecandidate", (event) => {
      if (pc !== this.pc) return; // a replaced connection's late candidates would confuse the new one
      this.send({ candidate: event.candidate ? event.candidate.toJSON() : END_OF_CANDIDATES });
    });
    pc.addEventListener("connectionstatechange", () => {
      if (pc !== this.pc) return;
      const state = pc.connectionState;
      this.onConnectionState(state);
      // The path changed (Wi-Fi hop, NAT rebinding): new candidates recover it without a new call.
      // A restart the silence watch sent moments ago is left to finish rather than started over.
      if (state === "disconnected" || state === "failed") this.restartIce({ unlessRecent: true });
    });
    this.setMuted(this.muted);
  }

  /** Offerer: restart ICE when the live connection has received nothing for SILENCE_MS. */
  async checkSilence() {
    const pc = this.pc;
    if (this.closed || !["connected", "disconnected", "failed"].includes(pc.connectionState)) {
      this.heard = null;
      return;
    }
    let bytes;
    try {
      bytes = receivedBytes(await pc.getStats());
    } catch {
      return;
    }
    if (pc !== this.pc || this.closed) return;
    if (bytes === null) {
      this.heard = null; // this browser reports no byte counts: nothing to judge silence by
      return;
    }
    const now = performance.now();
    if (!this.heard || this.heard.pc !== pc || this.heard.bytes !== bytes) {
      this.heard = { pc, bytes, at: now };
      return;
    }
    if (now - this.heard.at >= SILENCE_MS) this.restartIce({ unlessRecent: true });
  }

  replaceConnection() {
    const old = this.pc;
    this.createConnection();
    old.close();
    this.onConnectionState(this.pc.connectionState);
  }

  async offer(iceRestart) {
    if (this.closed) return;
    if (iceRestart) this.lastRestart = performance.now();
    await this.pc.setLocalDescription(await this.pc.createOffer(iceRestart ? { iceRestart: true } : {}));
    this.sendDescription();
  }

  async apply(data) {
    if (this.closed) return;
    const description = data.description;
    if (description?.type === "offer" && !this.offerer) await this.takeOffer(description);
    if (description?.type === "answer" && this.offerer) await this.takeAnswer(description);
    if (data.candidate) {
      if (!this.pc.remoteDescription) this.pendingCandidates.push(data.candidate);
      else await this.addCandidate(data.candidate);
    }
  }

  async takeOffer(description) {
    const current = this.pc.remoteDescription;
    if (current && fingerprint(current.sdp) !== fingerprint(description.sdp)) {
      this.replaceConnection(); // another peer connection on the offerer's side
    }
    try {
      await this.answer(description);
    } catch (error) {
      if (!this.pc.remoteDescription) throw error; // a fresh connection refused it: nothing else to try
      console.warn("offer refused, starting over with a fresh connection", error);
      this.replaceConnection();
      await this.answer(description);
    }
  }

  async answer(description) {
    await this.pc.setRemoteDescription(description);
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    this.sendDescription();
    await this.addHeldCandidates();
  }

  async takeAnswer(description) {
    // An answer with no offer outstanding is a late duplicate.
    if (this.pc.signalingState !== "have-local-offer") return;
    try {
      await this.pc.setRemoteDescription(description);
    } catch (error) {
      // A kiosk that reloaded answers from a brand-new peer (new DTLS fingerprint), which an
      // established connection cannot take: only a fresh connection and offer can talk to it.
      console.warn("answer refused, starting over", error);
      this.replaceConnection();
      await this.offer(false);
      return;
    }
    await this.addHeldCandidates();
    if (this.restartWanted) {
      this.restartWanted = false;
      await this.offer(true);
    }
  }

  sendDescription() {
    const local = this.pc.localDescription;
    this.send({ description: { type: local.type, sdp: local.sdp } });
  }

  send(data) {
    if (this.callId) this.sendSignal(this.callId, data);
    else this.outbox.push(data);
  }

  async addHeldCandidates() {
    const held = this.pendingCandidates;
    this.pendingCandidates = [];
    for (const candidate of held) await this.addCandidate(candidate);
  }

  async addCandidate(candidate) {
    try {
      if (!candidate.candidate) await this.pc.addIceCandidate();
      else await this.pc.addIceCandidate(candidate);
    } catch (error) {
      // A candidate of a generation an ICE restart already replaced is harmless to drop.
      console.warn("candidate dropped", error);
    }
  }
}

/** The DTLS fingerprint of an SDP: it changes exactly when the other side is a new peer connection. */
function fingerprint(sdp) {
  const match = /^a=fingerprint:(.+)$/m.exec(sdp || "");
  return match ? match[1].trim() : "";
}
