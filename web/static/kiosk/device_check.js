// Device check before queueing: is the picture usable, does the microphone hear, can the
// resident hear us. Done in the browser for now (the server's analyse_camera verdict and the
// camera-health record come with the capture issue, docs/kiosk.md). Problems never block the
// queue: the resident gets plain guidance and may still go ahead ("仍然排队").
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

let root;
let timers = [];
let audioSource = null;
let camera = "checking"; // checking | ok | blocked | dark | dirty | none
let mic = "checking"; // checking | ok | quiet | none
let onContinue = () => {};

/** Wire the device check; `next()` is called when the resident goes on to the queue. */
export function setupDeviceCheck({ next }) {
  root = document.querySelector('[data-screen="device"]');
  onContinue = next;
  root.querySelector('[data-action="speaker-test"]').addEventListener("click", playTone);
  root.querySelector('[data-testid="device-check-continue"]').addEventListener("click", () => onContinue());
  screens.register("device", { enter, leave });
}

async function enter() {
  camera = "checking";
  mic = "checking";
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
