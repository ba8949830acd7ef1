// Protocol client (docs/protocol.md), shared by the kiosk and the caseworker console.
//
// One object per page: it opens the protocol's WebSocket (its path written into the page), says
// hello (with the resume token of the previous welcome after a drop), reconnects with capped
// exponential backoff and full jitter (honouring the server's retry hint: ./backoff.js), numbers
// requests so `ok`/`error` replies resolve the right promise, and lets screens subscribe to
// message types.
// Every reconnect yields a fresh `welcome` carrying the whole state: callers rebuild from it and
// never need a replay.

/**
 * The protocol version this page speaks. The server writes it into the page
 * (`<html data-protocol-version>`, web/templates/base.html), so it is spelled only in Python.
 * @returns {number}
 */
function protocolVersion() {
  return Number(document.documentElement.dataset.protocolVersion);
}

/** A refused request: `code` is the protocol error code (docs/protocol.md, "Requests and errors"). */
export class ProtocolError extends Error {
  constructor(code, message, answer = null) {
    super(message || code);
    this.name = "ProtocolError";
    this.code = code;
    this.answer = answer; // `form_already_answered`: the answer that stands
  }
}

import { reconnectDelayMs, retryAfterFromReason } from "./backoff.js";

// What a person reads when a request fails on this side of the network: pages show an error's
// message as it is, so it is in words, as the server's own messages are.
const OFFLINE_TEXT = "网络连接中断，请稍后再试";
const TIMEOUT_TEXT = "网络不稳定，没有收到回复，请稍后再试";

// Close codes after which reconnecting cannot help: 4400 bad hello (a client bug), 4401 the sign-in
// session was revoked or expired (sign in again). 4429 (flooding) is retried after the backoff.
const FATAL_CLOSE_CODES = new Set([4400, 4401]);

export class WsClient {
  /**
   * @param {object} options
   * @param {string} [options.url] WebSocket URL; defaults to this origin's protocol path (`<html data-ws-path>`)
   * @param {number} [options.minDelayMs] first reconnect delay
   * @param {number} [options.maxDelayMs] reconnect delay cap
   * @param {number} [options.requestTimeoutMs] a request with no ok/error by then rejects
   * @param {number} [options.welcomeTimeoutMs] an open socket with no welcome by then is dropped and retried
   */
  constructor({
    url, minDelayMs = 500, maxDelayMs = 10000, requestTimeoutMs = 10000, welcomeTimeoutMs = 10000,
  } = {}) {
    this.url = url || defaultUrl();
    this.minDelayMs = minDelayMs;
    this.maxDelayMs = maxDelayMs;
    this.requestTimeoutMs = requestTimeoutMs;
    this.welcomeTimeoutMs = welcomeTimeoutMs;
    this.socket = null;
    this.resumeToken = null;
    this.welcome = null;
    this.connected = false; // true between welcome and the next close
    this.stopped = false;
    this.attempt = 0;
    this.nextId = 1;
    this.pending = new Map(); // request id -> {resolve, reject, timer}
    this.handlers = new Map(); // message type -> Set of callbacks
    this.heartbeatTimer = null;
    this.welcomeTimer = null;
    this.reconnectTimer = null;
    this.lastHeard = 0;
    this.retryAfterMs = 0; // hint of the last `try_again` error (admission), used by the next close
    this.lastDelayMs = 0; // the last reconnect delay chosen (tests)
  }

  /** Subscribe to a server message type, or to the pseudo-events `open`, `close`, `fatal`. Returns an unsubscribe. */
  on(type, callback) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(callback);
    return () => this.handlers.get(type).delete(callback);
  }

  /** Open the connection (and keep it open until stop()). */
  start() {
    this.stopped = false;
    this.open();
  }

  /** Close for good: no reconnect. */
  stop() {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.stopHeartbeat();
    if (this.socket) this.socket.close(1000);
  }

  /** Fire-and-forget message (refusals still arrive as `error` events without ref). */
  send(message) {
    if (!this.connected) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  /** Send with an id; resolves on `ok`, rejects with ProtocolError on `error` or when offline. */
  request(message) {
    if (!this.connected) return Promise.reject(new ProtocolError("offline", OFFLINE_TEXT));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ProtocolError("timeout", TIMEOUT_TEXT));
      }, this.requestTimeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.socket.send(JSON.stringify({ ...message, id }));
    });
  }

  open() {
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      const hello = { type: "hello", v: protocolVersion() };
      if (this.resumeToken) hello.resume = this.resumeToken;
      socket.send(JSON.stringify(hello));
      // A proxy or a wedged server can accept the socket and never answer: try again elsewhere.
      this.welcomeTimer = setTimeout(() => {
        if (socket === this.socket && !this.connected) {
          socket.close(4000);
          this.closed(socket, 4000);
        }
      }, this.welcomeTimeoutMs);
    });
    socket.addEventListener("message", (event) => this.receive(event.data));
    socket.addEventListener("close", (event) => this.closed(socket, event.code, event.reason));
    // "error" is always followed by "close"; the close handler does the work.
  }

  receive(raw) {
    let message;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    this.lastHeard = Date.now();
    if (message.type === "error" && message.code === "try_again") {
      // The admission rule refused this socket; its close (1013) follows.
      this.retryAfterMs = Number(message.retry_after_ms) || 0;
    }
    if (message.type === "welcome") {
      clearTimeout(this.welcomeTimer);
      this.welcome = message;
      this.resumeToken = message.resume_token || null;
      this.connected = true;
      this.attempt = 0;
      this.startHeartbeat(message.heartbeat_s);
    }
    if ((message.type === "ok" || message.type === "error") && message.ref != null) {
      const waiter = this.pending.get(message.ref);
      if (waiter) {
        this.pending.delete(message.ref);
        clearTimeout(waiter.timer);
        if (message.type === "ok") waiter.resolve(message);
        else waiter.reject(new ProtocolError(message.code, message.message, message.answer ?? null));
        return;
      }
    }
    this.emit(message.type, message);
  }

  closed(socket, code, reason = "") {
    if (socket !== this.socket) return; // a socket already given up on (heartbeat) closing late
    const retryAfterMs = Math.max(retryAfterFromReason(reason), this.retryAfterMs || 0);
    this.retryAfterMs = 0;
    this.socket = null;
    clearTimeout(this.welcomeTimer);
    const wasConnected = this.connected;
    this.connected = false;
    this.stopHeartbeat();
    for (const [id, waiter] of this.pending) {
      clearTimeout(waiter.timer);
      waiter.reject(new ProtocolError("offline", OFFLINE_TEXT));
      this.pending.delete(id);
    }
    this.emit("close", { code, wasConnected });
    if (this.stopped) return;
    if (FATAL_CLOSE_CODES.has(code)) {
      this.emit("fatal", { code });
      return;
    }
    // Backoff with full jitter so a district's kiosks coming back after an outage do not reconnect
    // in step; after an admission refusal (1013 with a hint) not before the server's hint.
    const delay = reconnectDelayMs(this.attempt, {
      minDelayMs: this.minDelayMs, maxDelayMs: this.maxDelayMs, retryAfterMs,
    });
    this.attempt += 1;
    this.lastDelayMs = delay;
    this.reconnectTimer = setTimeout(() => this.open(), delay);
  }

  // Server pings are answered by the browser silently, but a half-open TCP connection (Wi-Fi gone)
  // can look open for minutes. An application ping each heartbeat, and closing when nothing at all
  // was heard for two heartbeats, turns that into a prompt reconnect.
  startHeartbeat(heartbeatS) {
    this.stopHeartbeat();
    const periodMs = Math.max(2, Number(heartbeatS) || 20) * 1000;
    this.heartbeatTimer = setInterval(() => {
      if (Date.now() - this.lastHeard > 2 * periodMs + 1000) {
        const stale = this.socket;
        stale.close(4000);
        this.closed(stale, 4000);
        return;
      }
      this.send({ type: "ping" });
    }, periodMs);
  }

  stopHeartbeat() {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  emit(type, payload) {
    const callbacks = this.handlers.get(type);
    if (!callbacks) return;
    for (const callback of [...callbacks]) {
      try {
        callback(payload);
      } catch (error) {
        console.error(`handler for ${type} failed`, error);
      }
    }
  }
}

function defaultUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${document.documentElement.dataset.wsPath}`;
}
