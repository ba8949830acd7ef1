// The offer ring: a two-note chime generated with WebAudio (no audio files), repeated while an
// offer waits. Browsers only let a page start audio after a user gesture, so the AudioContext is
// unlocked on the first click/keypress (the sign-in or "接单" click always comes first).

const REPEAT_MS = 2500;
const NOTES = [
  { freq: 880, start: 0, length: 0.18 },
  { freq: 660, start: 0.22, length: 0.28 },
];

let context = null;
let timer = null;

/** Create/resume the AudioContext on the first user gesture. */
export function unlockAudioOnGesture() {
  const unlock = () => {
    audioContext();
    document.removeEventListener("pointerdown", unlock, true);
    document.removeEventListener("keydown", unlock, true);
  };
  document.addEventListener("pointerdown", unlock, true);
  document.addEventListener("keydown", unlock, true);
}

function audioContext() {
  if (!context) {
    try {
      context = new AudioContext();
    } catch {
      return null; // no audio output: the flashing offer card still shows
    }
  }
  if (context.state === "suspended") context.resume().catch(() => {});
  return context;
}

function chime() {
  const ctx = audioContext();
  if (!ctx) return;
  const t0 = ctx.currentTime + 0.02;
  for (const note of NOTES) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = "sine";
    osc.frequency.value = note.freq;
    // Short attack and exponential release: a soft chime rather than a click-edged beep.
    gain.gain.setValueAtTime(0.0001, t0 + note.start);
    gain.gain.exponentialRampToValueAtTime(0.3, t0 + note.start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t0 + note.start + note.length);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t0 + note.start);
    osc.stop(t0 + note.start + note.length + 0.05);
  }
}

/** Start ringing (idempotent). */
export function startRing() {
  if (timer) return;
  chime();
  timer = setInterval(chime, REPEAT_MS);
}

/** Stop ringing. */
export function stopRing() {
  clearInterval(timer);
  timer = null;
}
