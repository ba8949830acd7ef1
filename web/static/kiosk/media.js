// The kiosk's camera and microphone, opened once and shared by the device check and the call,
// so the resident is not asked twice and the call starts without a second camera warm-up.
// Released when the resident is done (home / idle) so the camera light goes off.

// 720p is what the caseworker needs to read a document held up to the camera.
const CONSTRAINTS = {
  video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } },
  audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
};

let streamPromise = null;

/** The local camera+microphone stream; falls back to microphone only, then camera only. */
export function localStream() {
  if (!streamPromise) {
    streamPromise = open().catch((error) => {
      streamPromise = null;
      throw error;
    });
  }
  return streamPromise;
}

async function open() {
  try {
    return await navigator.mediaDevices.getUserMedia(CONSTRAINTS);
  } catch (first) {
    // A broken camera must not stop a resident from talking, nor a broken microphone from showing.
    for (const partial of [{ audio: CONSTRAINTS.audio }, { video: CONSTRAINTS.video }]) {
      try {
        return await navigator.mediaDevices.getUserMedia(partial);
      } catch {
        // try the next
      }
    }
    throw first;
  }
}

/** Stop every track and forget the stream. */
export async function releaseLocalStream() {
  if (!streamPromise) return;
  const pending = streamPromise;
  streamPromise = null;
  try {
    for (const track of (await pending).getTracks()) track.stop();
  } catch {
    // never opened
  }
}

let audioContext = null;

/** One shared AudioContext (browsers limit how many a page may open). */
export function sharedAudioContext() {
  if (!audioContext) audioContext = new AudioContext();
  if (audioContext.state === "suspended") audioContext.resume().catch(() => {});
  return audioContext;
}
