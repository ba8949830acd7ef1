// Device check before queueing: is the picture usable, does the microphone hear, can the
// resident hear us. Judged in the browser, so the resident gets plain guidance at once; problems
// never block the queue ("仍然排队"). When the resident leaves the check, its result goes to the
// server as `device_check` (fire and forget) for the kiosk's camera-health history (docs/capture.md).
import { role, setText } from "./dom.js";
import { localStream, sharedAudioContext } from "./media.js";
import * as screens from "./screens.js";
import { T } from "./texts.js";

// Thresholds mirror server/quality/thresholds.py (camera mode) on a 160x90 thumbnail:
// black picture = covered lens; dim room; flat grey picture = smeared lens.
const BLOCKED_MAX_BRIGHTNESS = 8;
const BLOCKED_MAX_CONTRAST = 6;
const MIN_BRIGHTNESS = 45;
const MIN_CONTRAST = 16;
const SAMPLE_MS = 600;
const FIRST_FRAME_TIMEOUT_MS = 6000;
// RMS of a normal voice at arm's length is ~0.05-0.2; room noise stays under ~0.01.
const HEARD_RMS = 0.02;
const MIC_QUIET_AFTER_MS = 10000;
const TONE_HZ = 660;
const TONE_S = 0.8;
// The reported metrics are measured like the server's camera mode: grey, 640 wide.
const METRICS_WIDTH = 640;

let root;
let timers = [];
let audioSource = null;
let camera = "checking"; // checking | ok | blocked | dark | dirty | none
let mic = "checking"; // checking | ok | quiet | none
let micPeak = 0; // loudest RMS heard during this check
let tonePlayed = false;
let onContinue = () => {};
let report = () => {};

/**
 * Wire the device check. `next()` is called when the resident goes on to the queue; `send(message)`
 * delivers the `device_check` report (it must not wait: the resident never waits for it).
 */
export function setupDeviceCheck({ next, send }) {
  root = document.querySelector('[data-screen="device"]');
  onContinue = next;
  report = send;
  root.querySelector('[data-action="speaker-test"]').addEventListener("click", playTone);
  root.querySelector('[data-testid="device-check-continue"]').addEventListener("click", () => onContinue());
  screens.register("device", { enter, leave });
}

async function enter() {
  camera = "checking";
  mic = "checking";
  micPeak = 0;
  tonePlayed = false;
  setText(role("speaker-text", root), "speaker_hint");
  role("speaker-check", root).dataset.state = "idle";
  render();
  let stream;
  try {
    stream = await localStream();
  } catch {
    camera = "none";
    mic = "none";
    render(T.camera_denied);
    return;
  }
  if (screens.currentScreen() !== "device") return;
  const video = role("device-video", root);
  video.srcObject = stream;
  video.play().catch(() => {});
  if (stream.getVideoTracks().length) watchCamera(video);
  else camera = "none";
  if (stream.getAudioTracks().length) watchMicrophone(stream);
  else mic = "none";
  render();
}

function leave() {
  sendReport();
  for (const timer of timers) clearInterval(timer);
  timers = [];
  if (audioSource) audioSource.disconnect();
  audioSource = null;
  role("device-video", root).srcObject = null;
}

function watchCamera(video) {
  const started = Date.now();
  const canvas = document.createElement("canvas");
  canvas.width = 160;
  canvas.height = 90;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  timers.push(setInterval(() => {
    if (!video.videoWidth) {
      if (Date.now() - started > FIRST_FRAME_TIMEOUT_MS && camera === "checking") {
        camera = "none";
        render();
      }
      return;
    }
    context.drawImage(video, 0, 0, canvas.width, canvas.height);
    const verdict = judgeFrame(context.getImageData(0, 0, canvas.width, canvas.height).data);
    if (verdict !== camera) {
      camera = verdict;
      render();
    }
  }, SAMPLE_MS));
}

/** Mean luma and its spread on a thumbnail → ok | blocked | dark | dirty. */
export function judgeFrame(rgba) {
  let sum = 0;
  let sumSq = 0;
  const n = rgba.length / 4;
  for (let i = 0; i < rgba.length; i += 4) {
    const y = 0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2];
    sum += y;
    sumSq += y * y;
  }
  const mean = sum / n;
  const contrast = Math.sqrt(Math.max(0, sumSq / n - mean * mean));
  if (mean < BLOCKED_MAX_BRIGHTNESS || contrast < BLOCKED_MAX_CONTRAST) return "blocked";
  if (mean < MIN_BRIGHTNESS) return "dark";
  if (contrast < MIN_CONTRAST) return "dirty";
  return "ok";
}

// The check as the server records it. Sent once per visit, when the resident leaves the screen
// (to the queue, back, or by the idle timeout) after the camera verdict is in.
function sendReport() {
  if (camera === "checking") return;
  const metrics = camera === "none" ? {} : measure(role("device-video", root));
  if (mic !== "none") metrics.mic_peak_rms = Number(micPeak.toFixed(4));
  report({
    type: "device_check",
    camera_ok: camera === "ok",
    microphone_ok: mic === "ok",
    // The page cannot know whether the resident heard the tone, only that the audio output ran.
    speaker_ok: tonePlayed ? sharedAudioContext().state === "running" : null,
    metrics,
  });
}

/** brightness, contrast and sharpness of the current frame, as the server's camera mode measures them. */
export function measure(video) {
  if (!video || !video.videoWidth) return {};
  const width = Math.min(METRICS_WIDTH, video.videoWidth);
  const height = Math.max(1, Math.round((video.videoHeight * width) / video.videoWidth));
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(video, 0, 0, width, height);
  const rgba = context.getImageData(0, 0, width, height).data;
  const grey = new Float32Array(width * height);
  let sum = 0;
  let sumSq = 0;
  for (let i = 0, p = 0; p < grey.length; i += 4, p += 1) {
    const y = 0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2];
    grey[p] = y;
    sum += y;
    sumSq += y * y;
  }
  const n = grey.length;
  const brightness = sum / n;
  const contrast = Math.sqrt(Math.max(0, sumSq / n - brightness * brightness));
  return {
    brightness: round2(brightness),
    contrast: round2(contrast),
    sharpness: round2(directionalSharpness(grey, width, height)),
    width: video.videoWidth,
    height: video.videoHeight,
  };
}

// Variance of the second derivative in its weakest direction (x, y and both diagonals), as
// server/quality/metrics.py: a shaken or smeared picture is soft in at least one direction.
function directionalSharpness(grey, width, height) {
  const steps = [[1, 0], [0, 1], [1, 1], [1, -1]];
  let worst = Number.POSITIVE_INFINITY;
  for (const [dx, dy] of steps) {
    let sum = 0;
    let sumSq = 0;
    let count = 0;
    for (let y = 1; y < height - 1; y += 1) {
      for (let x = 1; x < width - 1; x += 1) {
        const p = y * width + x;
        const d = grey[p - dy * width - dx] - 2 * grey[p] + grey[p + dy * width + dx];
        sum += d;
        sumSq += d * d;
        count += 1;
      }
    }
    const mean = sum / count;
    worst = Math.min(worst, sumSq / count - mean * mean);
  }
  return worst;
}

function round2(value) {
  return Math.round(value * 100) / 100;
}

function watchMicrophone(stream) {
  const context = sharedAudioContext();
  const analyser = context.createAnalyser();
  analyser.fftSize = 1024;
  audioSource = context.createMediaStreamSource(stream);
  audioSource.connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  const meter = role("mic-meter", root);
  const started = Date.now();
  timers.push(setInterval(() => {
    analyser.getFloatTimeDomainData(samples);
    let energy = 0;
    for (const s of samples) energy += s * s;
    const rms = Math.sqrt(energy / samples.length);
    micPeak = Math.max(micPeak, rms);
    // Square root so quiet speech still moves the bar visibly.
    meter.style.setProperty("--level", Math.min(1, Math.sqrt(rms * 5)).toFixed(3));
    let next = mic;
    if (rms > HEARD_RMS) next = "ok";
    else if (mic === "checking" && Date.now() - started > MIC_QUIET_AFTER_MS) next = "quiet";
    if (next !== mic) {
      mic = next;
      render();
    }
  }, 100));
}

function playTone() {
  const context = sharedAudioContext();
  const oscillator = context.createOscillator();
  const gain = context.createGain();
  oscillator.frequency.value = TONE_HZ;
  // Ramp in and out: a hard start/stop clicks and startles.
  const now = context.currentTime;
  gain.gain.setValueAtTime(0, now);
  gain.gain.linearRampToValueAtTime(0.5, now + 0.05);
  gain.gain.linearRampToValueAtTime(0, now + TONE_S);
  oscillator.connect(gain).connect(context.destination);
  oscillator.start(now);
  oscillator.stop(now + TONE_S);
  tonePlayed = true;
  setText(role("speaker-text", root), "speaker_played");
  role("speaker-check", root).dataset.state = "ok";
}

const CAMERA_TEXT = {
  checking: "camera_checking", ok: "camera_ok", blocked: "camera_blocked", dark: "camera_dark",
  dirty: "camera_dirty", none: "camera_none",
};
const MIC_TEXT = { checking: "mic_checking", ok: "mic_ok", quiet: "mic_quiet", none: "mic_none" };

function render(cameraOverride) {
  const cameraText = role("camera-text", root);
  if (cameraOverride) cameraText.textContent = cameraOverride;
  else setText(cameraText, CAMERA_TEXT[camera]);
  role("camera-check", root).dataset.state = stateOf(camera);
  setText(role("mic-text", root), MIC_TEXT[mic]);
  role("mic-check", root).dataset.state = stateOf(mic);

  const status = root.querySelector('[data-testid="device-check-status"]');
  const button = root.querySelector('[data-testid="device-check-continue"]');
  let overall;
  if (camera === "checking") overall = ["checking", "status_checking"];
  else if (camera === "none") overall = ["warn", "status_camera_missing"];
  else if (camera !== "ok" || mic === "quiet" || mic === "none") overall = ["warn", "status_warn"];
  else overall = ["ok", "status_ok"];
  status.dataset.state = overall[0];
  setText(status, overall[1]);
  button.disabled = overall[0] === "checking";
  setText(button, overall[0] === "warn" ? "device_continue_anyway" : "device_continue");
}

function stateOf(value) {
  if (value === "checking") return "checking";
  return value === "ok" ? "ok" : "warn";
}
