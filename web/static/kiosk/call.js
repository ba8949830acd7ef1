// The kiosk's side of the WebRTC call: always the answerer (docs/protocol.md, "Signaling").
// The caseworker sends the offer, including every later ICE-restart offer, and the kiosk just
// answers whatever arrives, so there is no glare to resolve. Candidates that arrive before the
// offer is applied are held back and added right after it.

export class CallPeer {
  /**
   * @param {object} options
   * @param {string} options.callId the call (= session id)
   * @param {RTCIceServer[]} options.iceServers from welcome
   * @param {MediaStream|null} options.localStream camera + microphone
   * @param {(data: object) => void} options.sendSignal relays `data` to the caseworker
   * @param {(stream: MediaStream) => void} options.onRemoteStream the caseworker's media arrived
   * @param {(state: string) => void} [options.onConnectionState] RTCPeerConnection.connectionState
   */
  constructor({ callId, iceServers, localStream, sendSignal, onRemoteStream, onConnectionState = () => {} }) {
    this.callId = callId;
    this.sendSignal = sendSignal;
    this.pendingCandidates = [];
    this.closed = false;
    this.chain = Promise.resolve(); // signals are applied strictly in order
    this.pc = new RTCPeerConnection({ iceServers: iceServers || [] });
    if (localStream) {
      for (const track of localStream.getTracks()) this.pc.addTrack(track, localStream);
    }
    this.remoteStream = new MediaStream();
    this.pc.addEventListener("track", (event) => {
      const stream = event.streams[0] || this.remoteStream;
      if (!event.streams[0]) this.remoteStream.addTrack(event.track);
      onRemoteStream(stream);
    });
    this.pc.addEventListener("icecandidate", (event) => {
      // A null candidate means gathering is over: tell the other side (empty candidate string),
      // which lets an aiortc peer stop waiting for more.
      const candidate = event.candidate ? event.candidate.toJSON() : { candidate: "", sdpMid: null, sdpMLineIndex: null };
      this.sendSignal({ candidate });
    });
    this.pc.addEventListener("connectionstatechange", () => onConnectionState(this.pc.connectionState));
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
      await this.pc.setRemoteDescription(description);
      const answer = await this.pc.createAnswer();
      await this.pc.setLocalDescription(answer);
      this.sendSignal({ description: { type: this.pc.localDescription.type, sdp: this.pc.localDescription.sdp } });
      const held = this.pendingCandidates;
      this.pendingCandidates = [];
      for (const candidate of held) await this.addCandidate(candidate);
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
      // A candidate for a generation an ICE restart already replaced is harmless to drop.
      console.warn("candidate dropped", error);
    }
  }

  /** Mute or unmute the microphone (the track keeps flowing silence, so no renegotiation). */
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
