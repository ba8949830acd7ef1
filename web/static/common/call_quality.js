// Connection quality from getStats, as three plain levels read at a glance (kiosk and console).
// Measured over the last interval (deltas), not since the call began, so it recovers visibly.

const INTERVAL_MS = 2000;

/**
 * Grade one interval. rtt in seconds, loss as a share of packets, fps of the received video.
 * The bounds follow common video-call practice: under 300 ms and 2% loss feels live;
 * over 800 ms or 8% loss, or a picture under 8 fps, is hard to talk over.
 */
export function grade({ rtt, loss, fps }) {
  if ((rtt != null && rtt > 0.8) || loss > 0.08 || (fps != null && fps < 8)) return "poor";
  if ((rtt != null && rtt > 0.3) || loss > 0.02 || (fps != null && fps < 15)) return "fair";
  return "good";
}

/** Poll a CallPeer's stats; `onLevel(level, figures)` gets good | fair | poor. Returns stop(). */
export function watchQuality(peer, onLevel) {
  let previous = null;
  const timer = setInterval(async () => {
    let report;
    try {
      report = await peer.getStats();
    } catch {
      return;
    }
    const now = summarise(report);
    if (previous) {
      const packets = now.received - previous.received + (now.lost - previous.lost);
      const loss = packets > 0 ? Math.max(0, now.lost - previous.lost) / packets : 0;
      const frames = now.framesDecoded - previous.framesDecoded;
      const seconds = (now.timestamp - previous.timestamp) / 1000;
      const fps = now.hasVideo && seconds > 0 ? frames / seconds : null;
      const figures = { rtt: now.rtt, loss, fps };
      onLevel(grade(figures), figures);
    }
    previous = now;
  }, INTERVAL_MS);
  return () => clearInterval(timer);
}

function summarise(report) {
  const out = { received: 0, lost: 0, framesDecoded: 0, rtt: null, hasVideo: false, timestamp: performance.now() };
  report.forEach((stat) => {
    if (stat.type === "inbound-rtp") {
      out.received += stat.packetsReceived || 0;
      out.lost += stat.packetsLost || 0;
      if (stat.kind === "video") {
        out.hasVideo = true;
        out.framesDecoded += stat.framesDecoded || 0;
      }
    }
    if (stat.type === "candidate-pair" && stat.nominated && stat.state === "succeeded"
        && stat.currentRoundTripTime != null) {
      out.rtt = stat.currentRoundTripTime;
    }
  });
  return out;
}
