// Kiosk side of document capture (docs/capture.md, docs/protocol.md "device check and document capture").
//
//   import { startCapture } from "../common/capture_kiosk.js";
//   const capture = startCapture({ ws, stream, request, onGuidance, onResult, onTake });
//   ...
//   capture.stop();
//
// - `ws`: an object with `send(obj)` and `on(type, fn)` returning an unsubscribe (WsClient fits).
// - `stream`: the kiosk's camera MediaStream (the call's own stream: its video track is cloned —
//   the same camera, not opened again — and the clone is sent on a second, video-only
//   RTCPeerConnection that only the server's analyser receives).
// - `request`: the server's `capture_request` message ({capture_id, material, ice_servers, ...}).
// - `onGuidance(message)`: every `capture_guidance`; show `message.text` as it is (the server's
//   Chinese words, e.g. 放近一些 / 请拿稳 / 光线太暗).
// - `onResult(message)`: every `capture_result` ({ok, reasons, text}); after ok:false guidance
//   continues by itself and the next `capture_take` comes when the page is ready again. An upload
//   the server refused outright is reported the same way (ok:false, reasons [error code]).
// - `onTake(message)` (optional): a `capture_take` arrived; the still is being taken and uploaded.
//
// On `capture_take` the still is taken from the camera at its full resolution, not from the video
// stream: ImageCapture.takePhoto() where the browser has it, else the track's current frame drawn
// at its native size onto a canvas and encoded as JPEG. It is uploaded same-origin with the kiosk's
// session cookie. If the analysis peer fails (server restarted, network), live guidance stops but
// the request stays open: a manual `capture_take` (the caseworker's 立即拍摄) is still honoured.
// The capture ends on `capture_done` or stop().

const JPEG_QUALITY = 0.92;
// The upload limit is 8 MiB; a canvas JPEG of a 24-megapixel camera stays well below it.
const UPLOAD_URL = (id) => `/api/v1/captures/${encodeURIComponent(id)}/image`;

export function startCapture({ ws, stream, request, onGuidance = () => {}, onResult = () => {}, onTake = () => {} }) {
  const captureId = request.capture_id;
  const source = stream.getVideoTracks()[0];
  if (!source) throw new Error("no camera track");
  // A clone shares the camera with the call but can carry its own hint and be stopped alone.
  const track = source.clone();
  if ("contentHint" in track) track.contentHint = "detail"; // keep resolution, drop frames if needed
  const pc = new RTCPeerConnection({ iceServers: request.ice_servers || [] });
  const unsubscribe = [];
  const heldCandidates = [];
  let stopped = false;
  let uploading = false;

  const mine = (fn) => (message) => {
    if (message.capture_id === captureId && !stopped) fn(message);
  };
  const signal = (data) => ws.send({ type: "capture_signal", capture_id: captureId, data });

  unsubscribe.push(ws.on("capture_signal", mine((message) => {
    applySignal(message.data || {}).catch((error) => console.warn("capture signal failed", error));
  })));
  unsubscribe.push(ws.on("capture_guidance", mine(onGuidance)));
  unsubscribe.push(ws.on("capture_result", mine(onResult)));
  unsubscribe.push(ws.on("capture_take", mine((message) => {
    onTake(message);
    takeAndUpload();
  })));
  unsubscribe.push(ws.on("capture_done", mine(() => stop())));

  // Offerer, sending the camera only and receiving nothing.
  const transceiver = pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
  preferResolution(transceiver.sender);
  pc.addEventListener("icecandidate", (event) => {
    if (pc.signalingState === "closed") return;
    signal({ candidate: event.candidate ? event.candidate.toJSON() : { candidate: "" } });
  });
  pc.addEventListener("connectionstatechange", () => {
    // Guidance is over, the request is not: keep listening for a manual take.
    if (pc.connectionState === "failed") pc.close();
  });
  (async () => {
    await pc.setLocalDescription(await pc.createOffer());
    signal({ description: { type: "offer", sdp: pc.localDescription.sdp } });
  })().catch((error) => {
    console.warn("capture offer failed", error);
    pc.close();
  });

  async function applySignal({ description, candidate }) {
    if (pc.signalingState === "closed") return;
    if (description) {
      await pc.setRemoteDescription(description);
      for (const held of heldCandidates.splice(0)) await addCandidate(held);
    }
    if (candidate) {
      if (!pc.remoteDescription) heldCandidates.push(candidate);
      else await addCandidate(candidate);
    }
  }

  async function addCandidate(candidate) {
    try {
      await pc.addIceCandidate(candidate.candidate ? candidate : undefined);
    } catch {
      // end-of-candidates twice, or a candidate of a closed peer: nothing to do
    }
  }

  async function takeAndUpload() {
    if (uploading) return; // a manual and an automatic take can cross; one upload is enough
    uploading = true;
    try {
      const blob = await takeStill(track);
      const form = new FormData();
      form.append("image", blob, blob.type === "image/png" ? "still.png" : "still.jpg");
      const response = await fetch(UPLOAD_URL(captureId), {
        method: "POST", body: form, credentials: "same-origin",
      });
      if (!response.ok && !stopped) {
        // Refusals (size, type, closed request) come back as {"error": {code, message}}.
        const body = await response.json().catch(() => ({}));
        const error = body.error || {};
        onResult({ type: "capture_result", capture_id: captureId, ok: false,
                   reasons: [error.code || "upload_failed"], text: error.message || "" });
      }
      // The verdict itself arrives as `capture_result` over the WebSocket.
    } catch (error) {
      console.warn("capture upload failed", error);
      if (!stopped) {
        onResult({ type: "capture_result", capture_id: captureId, ok: false, reasons: ["upload_failed"], text: "" });
      }
    } finally {
      uploading = false;
    }
  }

  function stop() {
    if (stopped) return;
    stopped = true;
    for (const off of unsubscribe) if (typeof off === "function") off();
    pc.close();
    track.stop(); // the clone only: the call's own track keeps the camera on
  }

  return { captureId, stop };
}

// A document must stay legible: under CPU or bandwidth pressure drop frames, not pixels.
function preferResolution(sender) {
  try {
    const parameters = sender.getParameters();
    parameters.degradationPreference = "maintain-resolution";
    sender.setParameters(parameters).catch(() => {});
  } catch {
    // not supported by this browser: its default (balanced) still works
  }
}

/** A full-resolution still of the camera track (JPEG, or whatever ImageCapture gives). */
async function takeStill(track) {
  if (typeof ImageCapture === "function") {
    try {
      const photo = await new ImageCapture(track).takePhoto();
      if (photo && photo.size) return photo;
    } catch {
      // takePhoto is refused by some cameras and virtual devices: fall back to the frame.
    }
  }
  const { width, height } = track.getSettings();
  const video = document.createElement("video");
  video.muted = true;
  video.playsInline = true;
  video.srcObject = new MediaStream([track]);
  try {
    await video.play();
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth || width;
    canvas.height = video.videoHeight || height;
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    return await new Promise((resolve, reject) => {
      canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("no still"))), "image/jpeg", JPEG_QUALITY);
    });
  } finally {
    video.pause();
    video.srcObject = null;
  }
}
