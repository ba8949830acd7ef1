// The caseworker's own camera and microphone, opened for a call and kept for the next one (a
// caseworker takes calls all day: asking the browser for the devices each time would add a
// camera warm-up to every call). Released on sign-out.

// 720p: residents read the caseworker's face on a large kiosk screen.
const CONSTRAINTS = {
  video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } },
  audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
};

let streamPromise = null;

/** Camera + microphone; falls back to the microphone alone, then the camera alone; null if none. */
export function localStream() {
  if (!streamPromise) streamPromise = open();
  return streamPromise;
}

async function open() {
  for (const constraints of [CONSTRAINTS, { audio: CONSTRAINTS.audio }, { video: CONSTRAINTS.video }]) {
    try {
      return await navigator.mediaDevices.getUserMedia(constraints);
    } catch {
      // try the next, smaller set
    }
  }
  streamPromise = null; // ask again next call: the device may be plugged in by then
  return null;
}

/** Stop every track (sign-out). */
export async function releaseLocalStream() {
  if (!streamPromise) return;
  const pending = streamPromise;
  streamPromise = null;
  const stream = await pending;
  for (const track of stream?.getTracks() || []) track.stop();
}
