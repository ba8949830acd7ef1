// The kiosk's side of the WebRTC call: always the answerer (docs/protocol.md, "Signaling").
// The caseworker sends the offer, including every later ICE-restart offer, and the kiosk just
// answers whatever arrives, so there is no glare to resolve. Candidates that arrive before the
// offer is applied are held back and added right after it.
//
// When the caseworker's page reloads mid-call it starts a brand-new RTCPeerConnection, whose offer
// (new DTLS fingerprint) the established connection cannot take. So the kiosk starts over with a
// fresh connection of its own when a `peer` message says the other side is fresh (renew()), when an
// offer carries a fingerprint other than the one in use, or when applying an offer fails.

export class CallPeer {
  /**
   * @param {object} options
   * @param {string} options.callId the call (= session id)
   * @param {RTCIceServer[]} options.iceServers from welcome
   * @param {RTCIceTransportPolicy} [options.iceTransportPolicy] from welcome: "relay" sends media through TURN only
   * @param {MediaStream|null} options.localStream camera + microphone
   * @param {(data: object) => void} options.sendSignal relays `data` to the caseworker
   * @param {(stream: MediaStream) => void} options.onRemoteStream the caseworker's media arrived
   * @param {(state: string) => void} [options.onConnectionState] RTCPeerConnection.connectionState
   */
  constructor({ callId, iceServers, iceTransportPolicy = "all", localStream, sendSignal, onRemoteStream, onConnectionState = () => {} }) {
    this.callId = callId;
    this.iceServers = iceServers || [];
    this.iceTransportPolicy = iceTransportPolicy;
    this.localStream = localStream;
    this.sendSignal = sendSignal;
    this.onRemoteStream = onRemoteStream;
    this.onConnectionState = onConnectionState;
    this.closed = false;
    this.muted = false;
    this.chain = Promise.resolve(); // signals are applied strictly in order
    this.pc = null;
    this.createConnection();
  }

  createConnection() {
    const pc = new RTCPeerConnection({ iceServers: this.iceServers, iceTransportPolicy: this.iceTransportPolicy });
    this.pc = pc;
    this.pendingCandidates = [];
    if (this.localStream) {
      for (const track of this.localStream.getTracks()) pc.addTrack(track, this.localStream);
    }
    const remoteStream = new MediaStream();
    pc.addEventListener("track", (event) => {
      if (pc !== this.pc) return;
      const stream = event.streams[0] || remoteStream;
      if (!event.streams[0]) remoteStream.addTrack(event.track);
      this.onRemoteStream(stream);
    });
    pc.addEventListener("icecandidate", (event) => {
      if (pc !== this.pc) return; // a replaced connection's late candidates would confuse the new one
      // A null candidate means gathering is over: tell the other side (empty candidate string),
      // which lets an aiortc peer stop waiting for more.
      const candidate = event.candidate ? event.candidate.toJSON() : { candidate: "", sdpMid: null, sdpMLineIndex: null };
      this.sendSignal({ candidate });
    });
    pc.addEventListener("connectionstatechange", () => {
      if (pc === this.pc) this.onConnectionState(pc.connectionState);
    });
    this.setMuted(this.muted);
  }

  /** The caseworker's page started over (`peer` fresh): drop the old connection, wait for its new offer. */
  renew() {
    this.chain = this.chain.then(() => {
      // An offer of the new page may already have been applied to a fresh connection: keep that one.
      if (this.closed || !this.pc.remoteDescription) return;
      this.replaceConnection();
    });
    return this.chain;
  }

  replaceConnection() {
    const old = this.pc;
    this.createConnection();
    old.close();
    this.onConnectionState(this.pc.connectionState);
  }

  /** Apply one `signal` payload from the caseworker. */
  handleSignal(data) {
    this.chain = this.chain.then(() => this.apply(data)).catch((error) => console.error("signal failed", error));
    return this.chain;
  }

  async apply(data) {
    if (this.closed) return;
    if (data.description) {
      const description = data.description;
      if (description.type !== "offer") return; // the kiosk never offers, so never gets answers
      const current = this.pc.remoteDescription;
      if (current && fingerprint(current.sdp) !== fingerprint(description.sdp)) {
        this.replaceConnection(); // another peer connection on the caseworker's side
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
    if (data.candidate) {
      if (!this.pc.remoteDescription) this.pendingCandidates.push(data.candidate);
      else await this.addCandidate(data.candidate);
    }
  }

  async answer(description) {
    await this.pc.setRemoteDescription(description);
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    this.sendSignal({ description: { type: this.pc.localDescription.type, sdp: this.pc.localDescription.sdp } });
    const held = this.pendingCandidates;
    this.pendingCandidates = [];
    for (const candidate of held) await this.addCandidate(candidate);
  }

  async addCandidate(candidate) {
    try {
      if (!candidate.candidate) await this.pc.addIceCandidate();
      else await this.pc.addIceCandidate(candidate);
    } catch (error) {
      // A candidate for a generation an ICE restart already replaced is harmless to drop.
      console.warn("candidate dropped", error);
    }
  }

  /** Mute or unmute the microphone (the track keeps flowing silence, so no renegotiation). */
  setMuted(muted) {
    this.muted = muted;
    for (const sender of this.pc.getSenders()) {
      if (sender.track && sender.track.kind === "audio") sender.track.enabled = !muted;
    }
  }

  /** Stats for the quality indicator. */
  getStats() {
    return this.pc.getStats();
  }

  close() {
    this.closed = true;
    this.pc.close();
  }
}

/** The DTLS fingerprint of an SDP: it changes exactly when the other side is a new peer connection. */
function fingerprint(sdp) {
  const match = /^a=fingerprint:(.+)$/m.exec(sdp || "");
  return match ? match[1].trim() : "";
}
