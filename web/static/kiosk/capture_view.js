// The call screen's capture mode: the caseworker asked to see a document (`capture_request`).
// The resident gets one big instruction over the caseworker's video — first 请把证件放在镜头前,
// then the server's live guidance (放近一些, 请拿稳, 光线太暗, 有反光 …) — and their own picture
// grows so they can aim the document. The still is taken and uploaded by common/capture_kiosk.js
// from the call's own camera stream. A short 拍好了 / 没有拍清楚 follows each still; the overlay
// goes away on `capture_done` (accepted, retake — a new request follows — or cancelled) and when
// the call ends.
import { startCapture } from "../common/capture_kiosk.js";
import { role } from "./dom.js";
import { localStream } from "./media.js";
import { state } from "./state.js";
import { T } from "./texts.js";

// A refused still's reason stays up this long before live guidance takes the line back.
const RETRY_HOLD_MS = 2500;

let client;
let stage;
let box;
let capture = null; // {captureId, stop} of the open capture
let holdUntil = 0;
let generation = 0; // bumped by every start and end, so a start that awaited the camera knows it is stale

/** Wire capture mode to the protocol client. */
export function setupCaptureView(wsClient) {
  client = wsClient;
  stage = document.querySelector('[data-screen="call"] .k-call-stage');
  box = role("capture-guidance", stage);
  client.on("capture_request", (request) => {
    begin(request).catch((error) => console.error("capture could not start", error));
  });
  client.on("capture_done", ({ capture_id: captureId }) => {
    if (capture && capture.captureId === captureId) endCapture();
  });
}

/** Leave capture mode (capture_done, end of the call, going home). */
export function endCapture() {
  generation += 1;
  if (capture) capture.stop();
  capture = null;
  holdUntil = 0;
  if (!box) return;
  box.hidden = true;
  stage.classList.remove("is-capturing");
}

async function begin(request) {
  if (!state.call || request.call_id !== state.call.call_id) return; // not (or no longer) our call
  endCapture(); // a new request replaces the call's previous one
  const mine = generation;
  show(T.capture_start, "guide", request.material);
  stage.classList.add("is-capturing");
  let stream;
  try {
    stream = await localStream(); // the call's stream: the camera is not opened a second time
  } catch {
    stream = null;
  }
  if (mine !== generation) return; // ended or replaced while the camera was being fetched
  if (!stream || !stream.getVideoTracks().length) {
    show(T.capture_no_camera, "retry");
    return;
  }
  capture = startCapture({
    ws: client,
    stream,
    request,
    onGuidance: (message) => {
      if (Date.now() < holdUntil) return;
      show(message.text || T.capture_start, message.ready ? "ready" : "guide");
    },
    onTake: () => show(T.capture_taking, "ready"),
    onResult: (message) => {
      if (message.ok) {
        holdUntil = Number.POSITIVE_INFINITY; // nothing more to guide until the caseworker decides
        show(message.text || T.capture_ok, "ok");
      } else {
        holdUntil = Date.now() + RETRY_HOLD_MS;
        show(T.capture_retry(message.text), "retry");
      }
    },
  });
}

function show(text, kind, material) {
  if (material !== undefined) role("capture-material", box).textContent = T.capture_material(material);
  role("capture-text", box).textContent = text;
  box.dataset.state = kind;
  box.hidden = false;
}
