// The server's clock as seen from this browser. Wrap-up deadlines (agent.wrap_up_until) are
// server unix times; a caseworker PC whose clock is a minute off would otherwise show a countdown
// that is a minute wrong. Every `pong` carries the server's time: the offset is taken against the
// midpoint of the ping's round trip, keeping the sample with the shortest round trip.

let offsetMs = 0;
let bestRoundTripMs = Infinity;
let sentAt = null;

/** Measure the offset now and on every later heartbeat ping of the client. */
export function trackServerClock(client) {
  client.on("pong", (pong) => {
    if (sentAt === null || typeof pong.ts !== "number") return;
    const now = Date.now();
    const roundTrip = now - sentAt;
    sentAt = null;
    if (roundTrip > bestRoundTripMs) return;
    bestRoundTripMs = roundTrip;
    offsetMs = pong.ts * 1000 - (now - roundTrip / 2);
  });
  client.on("welcome", () => ping(client));
  // The client's own heartbeat pings are not timed by us; time one of ours per minute instead.
  setInterval(() => ping(client), 60000);
}

function ping(client) {
  sentAt = Date.now();
  if (!client.send({ type: "ping" })) sentAt = null;
}

/** The server's current unix time in seconds. */
export function serverNow() {
  return (Date.now() + offsetMs) / 1000;
}
