// 全程录音录像: the console records the call where the media already is. Both videos are drawn
// side by side on a 960x360 canvas at 12 fps (canvas.captureStream), both voices are mixed with
// Web Audio, and MediaRecorder writes WebM (VP8 + Opus) at a fixed budget: 60 kbit/s video +
// 24 kbit/s audio = 84 kbit/s ≈ 38 MB per hour. Every 4 s a chunk goes to the outbox
// (recording_queue.js) and from there to PUT /api/v1/sessions/{id}/recording/chunks/{n}.
// A reloaded console asks the server for the next index and continues; the call's end closes the
// recording with the chunk count and duration. docs/recording.md has the whole story.
import { consentDeclined } from "./consent_status.js";
import { role } from "./dom.js";
import { enqueueChunk, enqueueClose, onBacklog, pending, pump } from "./recording_queue.js";
import { T } from "./texts.js";

export const WIDTH = 960;
export const HEIGHT = 360;
export const FPS = 12;
export const CHUNK_MS = 4000;
// 50 + 24 kbit/s asked ≈ 33 MB per hour, under the 40 MB budget with room for the encoder's
// overshoot: asked for 84 kbit/s, a 31 s recording across a reload stored 89 kbit/s (40.2 MB/h).
export const VIDEO_BPS = 50_000;
export const AUDIO_BPS = 24_000;
const MIME_TYPES = ["video/webm;codecs=vp8,opus", "video/webm;codecs=vp9,opus", "video/webm"];

let active = null; // {sessionId, recorder, canvas, timer, audio, next, failed}
let indicator = null;

/**
 * Whether this call is recorded: recording is on for the product (the page says so), and the
 * resident did not decline (the consent step sends call.consent = {version, choice, at}).
 */
export function shouldRecord(call) {
  if (document.documentElement.dataset.recording !== "on") return false;
  return !consentDeclined(call.consent);
}

/** Why a call is not recorded (for the record), or "" when it is. */
function notRecordedReason(call) {
  if (document.documentElement.dataset.recording !== "on") return "disabled";
  if (consentDeclined(call.consent)) return "consent_declined";
  return "";
}

function show(state) {
  indicator ??= role("recording-indicator");
  if (!indicator) return;
  indicator.hidden = !state;
  if (!state) return;
  indicator.dataset.state = state;
  indicator.querySelector('[data-role="recording-text"]').textContent = T.recording_states[state];
}

onBacklog((waiting, done) => {
  if (done?.verdict === "refused" && done.item.kind === "chunk") {
    // Not stored and never will be (call over, not ours, too large): the record will name the gap.
    if (active && active.sessionId === done.item.sessionId) active.failed = true;
  }
  if (done?.item.kind === "close") {
    show(done.verdict === "ok" && done.body?.state === "complete" ? "complete" : "failed");
    return;
  }
  if (!active) return;
  if (active.failed) show("failed");
  else show(waiting > 1 ? "uploading" : "recording");
});

/**
 * Start recording a call (idempotent for the call already recording). `stage` holds the
 * remote-video and local-video elements; their streams are read each frame, so a renewed peer
 * connection is followed.
 */
export async function startRecording(call, stage) {
  if (active && active.sessionId === call.session_id) return;
  await stopRecording({ close: false });
  if (!shouldRecord(call)) {
    const reason = notRecordedReason(call);
    if (reason === "consent_declined") await enqueueClose(call.session_id, { chunks: 0, reason });
    show(null);
    return;
  }
  const type = globalThis.MediaRecorder && MIME_TYPES.find((t) => MediaRecorder.isTypeSupported(t));
  if (!type || !HTMLCanvasElement.prototype.captureStream) {
    await enqueueClose(call.session_id, { chunks: 0, reason: "unsupported" });
    show("failed");
    return;
  }
  const state = { sessionId: call.session_id, next: 0, failed: false, stopped: false, startedAt: startedAt(call) };
  active = state;
  show("recording");
  state.next = await resumeIndex(call.session_id);
  if (active !== state) return; // the call ended while we asked
  const remote = stage.querySelector('[data-testid="remote-video"]');
  const local = stage.querySelector('[data-testid="local-video"]');
  state.canvas = document.createElement("canvas");
  state.canvas.width = WIDTH;
  state.canvas.height = HEIGHT;
  const ctx = state.canvas.getContext("2d");
  const draw = () => drawFrame(ctx, remote, local);
  draw();
  state.audio = mixAudio(remote, local);
  state.clock = frameClock(() => { draw(); state.audio.follow(); });
  const stream = new MediaStream([...state.canvas.captureStream(FPS).getVideoTracks(),
    ...state.audio.stream.getAudioTracks()]);
  try {
    state.recorder = new MediaRecorder(stream, { mimeType: type, videoBitsPerSecond: VIDEO_BPS,
      audioBitsPerSecond: AUDIO_BPS });
  } catch {
    state.failed = true;
    stopRecording({ close: true, reason: "unsupported" });
    return;
  }
  state.recorder.addEventListener("dataavailable", (event) => {
    if (!event.data || !event.data.size) return;
    const index = state.next;
    state.next += 1;
    enqueueChunk(state.sessionId, index, event.data);
  });
  state.recorder.addEventListener("error", () => {
    state.failed = true;
    show("failed");
  });
  state.recorder.start(CHUNK_MS);
}

/** Stop the recorder; with close, send the close after the last chunk (the call ended). */
export async function stopRecording({ close = true, reason = "" } = {}) {
  const state = active;
  if (!state) return;
  active = null;
  state.clock?.stop();
  if (state.recorder && state.recorder.state !== "inactive") {
    // The last chunk comes with `stop`; wait for it so the close counts it.
    await new Promise((resolve) => {
      state.recorder.addEventListener("stop", resolve, { once: true });
      state.recorder.stop();
    });
  }
  state.audio?.close();
  if (!close) return;
  const duration = Math.max(0, (Date.now() - state.startedAt) / 1000);
  localStorage.removeItem(startKey(state.sessionId));
  show("uploading");
  await enqueueClose(state.sessionId, {
    chunks: state.next, duration_s: Math.round(duration * 10) / 10,
    reason: reason || (state.failed ? "recorder_error" : ""),
  });
}

/** Call `tick` FPS times a second, from a worker when possible (see recording_clock.js). */
function frameClock(tick) {
  try {
    const worker = new Worker(new URL("./recording_clock.js", import.meta.url));
    worker.onmessage = tick;
    worker.postMessage(1000 / FPS);
    return { stop: () => worker.terminate() };
  } catch {
    const timer = setInterval(tick, 1000 / FPS);
    return { stop: () => clearInterval(timer) };
  }
}

function startKey(sessionId) {
  return `jinglin-recording-start:${sessionId}`;
}

/** When this call's recording began (kept across a reload, so the duration covers the call). */
function startedAt(call) {
  const stored = Number(localStorage.getItem(startKey(call.session_id)));
  if (stored) return stored;
  const now = Date.now();
  localStorage.setItem(startKey(call.session_id), String(now));
  return now;
}

/** The next index: past what the server holds and what still waits in the outbox. */
async function resumeIndex(sessionId) {
  let next = 0;
  try {
    const response = await fetch(`/api/v1/sessions/${encodeURIComponent(sessionId)}/recording/chunks`,
      { credentials: "same-origin" });
    if (response.ok) next = (await response.json()).next_index;
  } catch {
    // offline: the outbox still knows what it holds
  }
  for (const item of await pending()) {
    if (item.kind === "chunk" && item.sessionId === sessionId) next = Math.max(next, item.index + 1);
  }
  pump();
  return next;
}

function drawFrame(ctx, remote, local) {
  ctx.fillStyle = "#1b1f24";
  ctx.fillRect(0, 0, WIDTH, HEIGHT);
  drawCover(ctx, remote, 0);
  drawCover(ctx, local, WIDTH / 2);
  ctx.fillStyle = "rgba(0,0,0,0.5)";
  ctx.fillRect(0, HEIGHT - 22, WIDTH, 22);
  ctx.fillStyle = "#fff";
  ctx.font = "14px sans-serif";
  ctx.fillText(new Date().toLocaleString("zh-CN", { hour12: false }), 8, HEIGHT - 6);
}

/** One video into its half, cropped to fill it (a missing picture leaves the half dark). */
function drawCover(ctx, video, x) {
  const w = WIDTH / 2;
  if (!video || video.readyState < 2 || !video.videoWidth) return;
  const scale = Math.max(w / video.videoWidth, HEIGHT / video.videoHeight);
  const sw = w / scale;
  const sh = HEIGHT / scale;
  ctx.drawImage(video, (video.videoWidth - sw) / 2, (video.videoHeight - sh) / 2, sw, sh, x, 0, w, HEIGHT);
}

/** Both voices into one track; `follow()` re-attaches when a video element gets a new stream. */
function mixAudio(...videos) {
  const context = new AudioContext();
  const destination = context.createMediaStreamDestination();
  const attached = new Map(); // video → {stream, source}
  const follow = () => {
    if (context.state === "suspended") context.resume().catch(() => {});
    for (const video of videos) {
      const stream = video.srcObject;
      const current = attached.get(video);
      if (current?.stream === stream) continue;
      current?.source.disconnect();
      attached.delete(video);
      if (stream && stream.getAudioTracks().length) {
        const source = context.createMediaStreamSource(stream);
        source.connect(destination);
        attached.set(video, { stream, source });
      }
    }
  };
  follow();
  return { stream: destination.stream, follow, close: () => context.close().catch(() => {}) };
}
