// The console's outbox for recording chunks and closes: IndexedDB, so chunks that could not be
// sent (network cut, page reload, server busy) survive and go out, oldest first, when the server
// answers again. Every chunk is PUT with its index; the server accepts a retried chunk once
// (docs/recording.md). Falls back to memory where IndexedDB is unavailable.

const DB_NAME = "jinglin-recording";
const STORE = "outbox";
const RETRY_MS = [1000, 2000, 4000, 8000, 15000];

let dbPromise = null;
const memory = new Map();
let pumping = false;
let retryTimer = null;
let attempt = 0;
let listener = () => {};

function openDb() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve) => {
      if (!("indexedDB" in globalThis)) return resolve(null);
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => resolve(null);
    });
  }
  return dbPromise;
}

function key(sessionId, index) {
  // Sorts by session, then index; a close (index 9999999) sorts after its chunks.
  return `${sessionId}:${String(index).padStart(7, "0")}`;
}

async function tx(mode, work) {
  const db = await openDb();
  if (!db) return work(null);
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(STORE, mode);
    const result = work(transaction.objectStore(STORE));
    transaction.oncomplete = () => resolve(result?.result ?? result);
    transaction.onerror = () => reject(transaction.error);
  });
}

async function put(item) {
  const k = key(item.sessionId, item.index);
  if (!(await openDb())) { memory.set(k, item); return; }
  await tx("readwrite", (store) => store.put(item, k));
}

async function remove(item) {
  const k = key(item.sessionId, item.index);
  if (!(await openDb())) { memory.delete(k); return; }
  await tx("readwrite", (store) => store.delete(k));
}

/** Every waiting item, in key order (session, index; the close last). */
export async function pending() {
  if (!(await openDb())) return [...memory.keys()].sort().map((k) => memory.get(k));
  return tx("readonly", (store) => store.getAll());
}

/** Called with the number of waiting items after every change. */
export function onBacklog(callback) {
  listener = callback;
}

/** Keep a chunk (Blob) for upload, then try to send. */
export async function enqueueChunk(sessionId, index, blob) {
  await put({ kind: "chunk", sessionId, index, blob });
  pump();
}

/** Keep the close of a recording; it is sent after the session's chunks. */
export async function enqueueClose(sessionId, body) {
  await put({ kind: "close", sessionId, index: 9999999, body });
  pump();
}

/** Send what waits, oldest first; on a network failure or a busy server, try again later. */
export async function pump() {
  if (pumping) return;
  pumping = true;
  clearTimeout(retryTimer);
  try {
    for (;;) {
      const items = await pending();
      listener(items.length, null);
      if (!items.length) break;
      const item = items[0];
      const verdict = await send(item);
      if (verdict === "retry") {
        const wait = RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)];
        attempt += 1;
        retryTimer = setTimeout(pump, wait);
        break;
      }
      attempt = 0;
      await remove(item);
      listener((await pending()).length, { item, verdict: verdict.outcome, body: verdict.body });
    }
  } finally {
    pumping = false;
  }
}

async function send(item) {
  const base = `/api/v1/sessions/${encodeURIComponent(item.sessionId)}/recording`;
  let response;
  try {
    response = item.kind === "chunk"
      ? await fetch(`${base}/chunks/${item.index}`, {
        method: "PUT", body: item.blob, credentials: "same-origin", headers: { "Content-Type": "video/webm" },
      })
      : await fetch(`${base}/close`, {
        method: "POST", body: JSON.stringify(item.body), credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
      });
  } catch {
    return "retry"; // no network: keep it
  }
  // The server is busy, restarting or short of disk: keep it and try later. Everything else is
  // final (stored, or refused for a reason a retry cannot change) and leaves the outbox.
  // Not signed in (yet, or again after a sign-in page): keep it for when the caseworker is.
  if (response.status >= 500 || response.status === 429 || response.status === 401) return "retry";
  const body = await response.json().catch(() => null);
  return { outcome: response.ok ? "ok" : "refused", body };
}

// The network came back: do not wait for the next retry.
globalThis.addEventListener?.("online", () => pump());
// A console opened again after a crash or a reload at the end of a call sends what is left.
setTimeout(() => pump(), 2000);
