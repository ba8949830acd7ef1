// Kiosk side of document capture (docs/capture.md, docs/protocol.md "device check and document capture").
//
//   import { startCapture } from "../common/capture_kiosk.js";
//   const capture = startCapture({ ws, stream, request, onGuidance, onResult });
//   ...
//   capture.stop();
//
// - `ws`: an object with `send(obj)` and `on(type, fn)` returning an unsubscribe (WsClient fits).
// - `stream`: the kiosk's camera MediaStream (the call's own stream is fine: its video track is
//   added to a second, video-only RTCPeerConnection that only the server's analyser receives).
// - `request`: the server's `capture_request` message ({capture_id, material, ice_servers, ...}).
// - `onGuidance(message)`: every `capture_guidance`; show `message.text` as it is (the server's
//   Chinese words, e.g. 放近一些 / 请拿稳 / 光线太暗).
// - `onResult(message)`: every `capture_result` ({ok, reasons, text}); after ok:false guidance
//   continues by itself and the next `capture_take` comes when the page is ready again.
//
// On `capture_take` the still is taken from the camera at its full resolution, not from the video
// stream: ImageCapture.takePhoto() where the browser has it, else the track's current frame drawn
// at its native size onto a canvas and encoded as JPEG. It is uploaded same-origin with the kiosk's
// session cookie. The capture ends on `capture_done`, on stop(), or when the server closes the peer.

const JPEG_QUALITY = 0.92;
// The upload limit is 8 MiB; a canvas JPEG of a 24-megapixel camera stays well below it.
const UPLOAD_URL = (id) => `/api/v1/captures/${encodeURIComponent(id)}/image`;

export function startCapture({ ws, stream, request, onGuidance = () => {}, onResult = () => {} }) {
  const captureId = request.capture_id;
  const track = stream.getVideoTracks()[0];
  const pc = new RTCPeerConnection({ iceServers: request.ice_servers || [] });
  const unsubscribe = [];
  let stopped = false;
  let uploading = false;

  const mine = (fn) => (message) => {
    if (message.capture_id === captureId && !stopped) fn(message);
  };
  const signal = (data) => ws.send({ type: "capture_signal", capture_id: captureId, data });

  unsubscribe.push(ws.on("capture_signal", mine(async (message) => {
    const { description, candidate } = message.data || {};
    if (description) await pc.setRemoteDescription(description);
    if (candidate) await pc.addIceCandidate(candidate).catch(() => {});
  })));
  unsubscribe.push(ws.on("capture_guidance", mine(onGuidance)));
  unsubscribe.push(ws.on("capture_result", mine(onResult)));
  unsubscribe.push(ws.on("capture_take", mine(() => takeAndUpload())));
  unsubscribe.push(ws.on("capture_done", mine(() => stop())));

  // Offerer, sending the camera only and receiving nothing.
  pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
  pc.addEventListener("icecandidate", (event) => {
    signal({ candidate: event.candidate ? event.candidate.toJSON() : { candidate: "" } });
  });
  pc.addEventListener("connectionstatechange", () => {
    if (pc.connectionState === "failed") stop();
  });
  (async () => {
    await pc.setLocalDescription(await pc.createOffer());
    signal({ description: { type: "offer", sdp: pc.localDescription.sdp } });
  })().catch(() => stop());

  async function takeAndUpload() {
    if (uploading) return; // a manual and an automatic take can cross; one upload is enough
    uploading = true;
    try {
      const blob = await takeStill(track);
      const form = new FormData();
      form.append("image", blob, "still.jpg");
      const response = await fetch(UPLOAD_URL(captureId), {
        method: "POST", body: form, credentials: "same-origin",
      });
      if (!response.ok) {
        // Refusals (size, type, closed request) come back as {"error": {code, message}}.
        const body = await response.json().catch(() => ({}));
        const error = body.error || {};
        onResult({ type: "capture_result", capture_id: captureId, ok: false,
                   reasons: [error.code || "upload_failed"], text: error.message || "" });
      }
      // The verdict itself arrives as `capture_result` over the WebSocket.
    } catch (error) {
      onResult({ type: "capture_result", capture_id: captureId, ok: false, reasons: ["upload_failed"], text: "" });
    } finally {
      uploading = false;
    }
  }

  function stop() {
    if (stopped) return;
    stopped = true;
    for (const off of unsubscribe) if (typeof off === "function") off();
    // Only the capture peer closes: the camera track keeps serving the call.
    pc.close();
  }

  return { captureId, stop };
}

/** A full-resolution JPEG still of the camera track. */
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
  await video.play();
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth || width;
  canvas.height = video.videoHeight || height;
  canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
  video.pause();
  video.srcObject = null;
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("no still"))), "image/jpeg", JPEG_QUALITY);
  });
}
