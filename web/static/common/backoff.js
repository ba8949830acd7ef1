// Reconnect delays of the protocol client (docs/protocol.md "Admission").
//
// Exponential backoff with full jitter: the n-th retry waits a uniformly random time between 0
// and min(maxDelayMs, minDelayMs * 2^n), so a whole district's kiosks coming back after an outage
// spread out instead of reconnecting in step. When the server refused the socket with close 1013
// and a hint (`retry_after_ms=N` as the close reason, or `retry_after_ms` in its `try_again`
// error), N is a return slot the server chose for this client: it waits N ms plus a jitter of at
// most minDelayMs, not a growing one, which would only push it past its slot.

/**
 * Milliseconds to wait before reconnect attempt `attempt` (0 for the first retry).
 * @param {number} attempt
 * @param {{minDelayMs: number, maxDelayMs: number, retryAfterMs?: number, random?: () => number}} options
 * @returns {number}
 */
export function reconnectDelayMs(attempt, { minDelayMs, maxDelayMs, retryAfterMs = 0, random = Math.random }) {
  const hint = Math.max(0, retryAfterMs || 0);
  if (hint > 0) return hint + random() * Math.min(maxDelayMs, minDelayMs);
  return random() * Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(attempt, 30));
}

/**
 * The retry hint of a close reason (`retry_after_ms=N`), or 0.
 * @param {string | undefined} reason
 * @returns {number}
 */
export function retryAfterFromReason(reason) {
  const match = /^retry_after_ms=(\d{1,6})$/.exec(reason || "");
  return match ? Number(match[1]) : 0;
}
