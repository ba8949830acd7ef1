// The caseworker's side of the WebRTC call: always the offerer (docs/protocol.md, "Signaling").
// Only this side ever offers, including every ICE-restart offer, so the kiosk just answers and
// there is no glare to resolve. A restart asked for while an offer is still unanswered is held
// and sent once the answer arrives.

export class OffererPeer {
  /**
   * @param {object} options
   * @param {string} options.callId the call (= session id)
   * @param {RTCIceServer[]} options.iceServers from welcome
   * @param {MediaStream|null} options.localStream camera + microphone
   * @param {(data: object) => void} options.sendSignal relays `data` to the kiosk
   * @param {(stream: MediaStream) => void} options.onRemoteStream the resident's media arrived
   * @param {(state: string) => void} [options.onConnectionState] RTCPeerConnection.connectionState
   * @param {() => void} [options.onBroken] the answer cannot be applied: start over with a new peer
   */
  constructor({ callId, iceServers, localStream, sendSignal, onRemoteStream, onConnectionState = () => {},
                onBroken = () => {} }) {
    this.callId = callId;
    this.onBroken = onBroken;
    this.sendSignal = sendSignal;
    this.closed = false;
    this.restartWanted = false;
    this.pendingCandidates = [];
    this.chain = Promise.resolve(); // offers and answers are applied strictly in order
    this.pc = new RTCPeerConnection({ iceServers: iceServers || [] });
    if (localStream) {
      for (const track of localStream.getTracks()) this.pc.addTrack(track, localStream);
    }
    // Receive the resident's camera and microphone even when this PC has no devices of its own.
    const kinds = new Set((localStream?.getTracks() || []).map((t) => t.kind));
    for (const kind of ["audio", "video"]) {
      if (!kinds.has(kind)) this.pc.addTransceiver(kind, { direction: "recvonly" });
    }
    this.remoteStream = new MediaStream();
    this.pc.addEventListener("track", (event) => {
      const stream = event.streams[0] || this.remoteStream;
      if (!event.streams[0]) this.remoteStream.addTrack(event.track);
      onRemoteStream(stream);
    });
    this.pc.addEventListener("icecandidate", (event) => {
      // null = gathering over: an empty candidate tells an aiortc kiosk peer to stop waiting.
      const candidate = event.candidate ? event.candidate.toJSON() : { candidate: "", sdpMid: null, sdpMLineIndex: null };
      this.sendSignal({ candidate });
    });
    this.pc.addEventListener("connectionstatechange", () => {
      const state = this.pc.connectionState;
      onConnectionState(state);
      // The path changed (Wi-Fi hop, NAT rebinding): new candidates recover it without a new call.
      if (state === "disconnected" || state === "failed") this.restartIce();
    });
  }

  /** Create and send the first offer. */
  start() {
    return this.enqueue(() => this.offer(false));
  }

  /** Send an ICE-restart offer now, or as soon as the pending offer is answered. */
  restartIce() {
    if (this.closed) return;
    if (this.pc.signalingState !== "stable") {
      this.restartWanted = true;
      return;
    }
    this.enqueue(() => this.offer(true));
  }

  /** Apply one `signal` payload from the kiosk. */
  handleSignal(data) {
    return this.enqueue(() => this.apply(data));
  }

  enqueue(step) {
    this.chain = this.chain.then(step).catch((error) => console.error("signaling step failed", error));
    return this.chain;
  }

  async offer(iceRestart) {
    if (this.closed) return;
    const offer = await this.pc.createOffer(iceRestart ? { iceRestart: true } : {});
    await this.pc.setLocalDescription(offer);
    const local = this.pc.localDescription;
    this.sendSignal({ description: { type: local.type, sdp: local.sdp } });
  }

  async apply(data) {
    if (this.closed) return;
    if (data.description) {
      // Only answers are expected; an answer with no offer outstanding is a late duplicate.
      if (data.description.type !== "answer" || this.pc.signalingState !== "have-local-offer") return;
      try {
        await this.pc.setRemoteDescription(data.description);
      } catch (error) {
        // A kiosk that reloaded answers from a brand-new peer (new DTLS fingerprint), which an
        // established connection cannot take: only a fresh peer connection can talk to it.
        console.warn("answer refused, starting over", error);
        this.onBroken();
        return;
      }
      const held = this.pendingCandidates;
      this.pendingCandidates = [];
      for (const candidate of held) await this.addCandidate(candidate);
      if (this.restartWanted) {
        this.restartWanted = false;
        await this.offer(true);
      }
    }
    if (data.candidate) {
      if (!this.pc.remoteDescription) this.pendingCandidates.push(data.candidate);
      else await this.addCandidate(data.candidate);
    }
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

  /** Mute or unmute the microphone (the track keeps sending silence: no renegotiation). */
  setMuted(muted) {
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
