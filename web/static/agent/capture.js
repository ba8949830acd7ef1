// Document capture from the caseworker's side (docs/protocol.md, "device check and document
// capture"). One capture is open at a time, because the kiosk has one camera: request → live
// guidance from the server's quality check → still taken (auto, or "立即拍摄") → the rectified
// image shown for review → accept (material ticked, thumbnail kept) or retake (back to guidance).
//
// The server announces each opened request with `capture_opened` {capture_id, call_id, material}
// (also after "要求重拍", which opens a fresh request for the same material, and when a new request
// replaces the call's previous one). Until it arrives, the first capture message is taken as ours.
import { getJson } from "../common/http.js";
import { markCaptured, setCaptureBusy } from "./checklist.js";
import { role, setText } from "./dom.js";
import { T, errorText } from "./texts.js";

let client;
let callId = null;
let open = null; // {material, id, image: capture_ready.capture | null}
let status;
let statusText;
let review;

/** Wire the capture panel and the review overlay to the protocol client. */
export function setupCapture(wsClient) {
  client = wsClient;
  status = role("capture-status");
  statusText = role("capture-text");
  review = role("capture-review");
  status.querySelector('[data-action="capture-now"]').addEventListener("click", takeNow);
  status.querySelector('[data-action="capture-cancel"]').addEventListener("click", cancel);
  review.querySelector('[data-action="capture-accept"]').addEventListener("click", () => decide("accept"));
  review.querySelector('[data-action="capture-retake"]').addEventListener("click", () => decide("retake"));
  client.on("capture_opened", (m) => {
    if (m.call_id !== callId) return;
    review.hidden = true;
    showWaiting(m.material, m.capture_id);
  });
  client.on("capture_guidance", (m) => ours(m) && showStatus(m.text || T.capture_waiting, open.material));
  client.on("capture_result", (m) => {
    if (!ours(m)) return;
    showStatus(m.ok ? T.capture_uploading : T.capture_retry + (m.text || ""));
  });
  client.on("capture_ready", ({ capture }) => {
    if (!capture) return;
    // Only this call's caseworker is sent capture_ready. A console reloaded mid-capture can get it
    // before restoreCaptures() has answered (and that answer may predate the still): adopt it.
    if (!open && callId) openCapture(capture.material, capture.capture_id, null);
    if (!ours(capture)) return;
    open.image = capture;
    showReview(capture);
  });
  client.on("capture_done", (m) => ours(m) && done(m.decision));
}

/** A new call (or none): forget any open capture. */
export function resetCapture(newCallId) {
  callId = newCallId;
  close();
}

/**
 * Show this call's captures again after the page was reloaded mid-call: the images already
 * accepted, an uploaded image still waiting for the caseworker's review, or else the request
 * still waiting for the resident's still. The server keeps them, the page does not
 * (GET /api/v1/sessions/{id}/captures; call id = session id).
 */
export async function restoreCaptures(sessionId) {
  let captures;
  let openRequest;
  try {
    ({ captures, open_request: openRequest } = await getJson(
      `/api/v1/sessions/${encodeURIComponent(sessionId)}/captures`,
    ));
  } catch {
    return; // not fatal: the checklist simply starts unticked
  }
  if (callId !== sessionId) return; // the call ended meanwhile
  for (const capture of captures) {
    if (capture.state === "accepted" && capture.image_url) {
      markCaptured(capture.material, capture.image_url, capture.original_url);
    }
  }
  // Oldest first: the last pending one with an image is the review that was on screen.
  const waiting = captures.filter((c) => c.state === "pending" && c.image_url).pop();
  if (waiting && !open) {
    openCapture(waiting.material, waiting.capture_id, waiting);
    showReview(waiting);
  } else if (openRequest && !open) {
    // the kiosk is still guiding the resident: its next guidance and still arrive as usual
    showWaiting(openRequest.material, openRequest.capture_id);
  }
}

/** Make (material, id) the open capture; image is its uploaded still, if any. */
function openCapture(material, id, image) {
  open = { material, id, image };
  setCaptureBusy(true);
}

/** An open request waiting for the resident's still. */
function showWaiting(material, id) {
  openCapture(material, id, null);
  showStatus(T.capture_waiting, material);
}

/** The caseworker pressed "拍照" for a material. */
export async function requestCapture(material) {
  if (!callId) return;
  if (open) {
    showStatus(T.capture_busy);
    return;
  }
  showWaiting(material, null);
  try {
    const reply = await client.request({ type: "capture_request", call_id: callId, material });
    if (open && open.material === material && open.id === null && reply.capture_id) open.id = reply.capture_id;
  } catch (error) {
    close();
    showStatus(error.code === "unavailable" ? T.capture_unavailable : T.capture_failed + errorText(error));
  }
}

// True when a capture message belongs to the open capture (learning its id if still unknown).
function ours(message) {
  if (!open) return false;
  if (open.id === null && message.capture_id) open.id = message.capture_id;
  return message.capture_id === open.id;
}

async function takeNow() {
  if (!open?.id) return;
  try {
    await client.request({ type: "capture_now", capture_id: open.id });
    // Asked, not taken: the kiosk takes the still and uploads it; capture_result says when.
    showStatus(T.capture_asked);
  } catch (error) {
    showStatus(T.capture_failed + errorText(error));
  }
}

async function cancel() {
  const id = open?.id;
  close();
  if (id) client.send({ type: "capture_cancel", capture_id: id });
}

async function decide(decision) {
  if (!open?.id) return;
  try {
    // capture_done (and, for a retake, capture_opened) arrive before the ok and move the screen on.
    await client.request({ type: "capture_review", capture_id: open.id, decision });
  } catch (failure) {
    showStatus(T.capture_failed + errorText(failure));
  }
}

function done(decision) {
  if (!open) return;
  if (decision === "accept") {
    if (open.image) markCaptured(open.material, open.image.image_url, open.image.original_url);
    close();
    return;
  }
  if (decision === "retake") {
    // The server opens a new request for the same material (`capture_opened` follows).
    open.image = null;
    open.id = null;
    review.hidden = true;
    showStatus(T.capture_waiting, open.material);
    return;
  }
  close(); // cancelled or expired on the server
}

function showStatus(text, material = open?.material) {
  // Every status line names the material, so a console reloaded mid-capture still says which one.
  const appearing = status.hidden;
  status.hidden = false;
  // A long checklist or a scrolled column must not hide it: bring it into view once, as it appears.
  if (appearing) status.scrollIntoView({ block: "nearest" });
  statusText.textContent = material ? `${material}：${text}` : text;
  status.querySelector('[data-action="capture-now"]').hidden = !open;
  status.querySelector('[data-action="capture-cancel"]').hidden = !open;
}

function showReview(capture) {
  status.hidden = true;
  review.hidden = false;
  role("review-title", review).textContent = T.capture_review_title(capture.material || open.material);
  review.querySelector('[data-testid="capture-image"]').src = capture.image_url;
  review.querySelector('[data-testid="capture-original"]').href = capture.original_url;
}

function close() {
  open = null;
  if (!status) return;
  setCaptureBusy(false);
  status.hidden = true;
  review.hidden = true;
  review.querySelector('[data-testid="capture-image"]').removeAttribute("src");
  setText(statusText, "capture_waiting");
}
