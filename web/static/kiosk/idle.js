// Idle timeout: a kiosk left mid-way must not show the last resident's matter to the next one.
// Any touch, click or key restarts the clock; screens where the resident is legitimately still
// (waiting in line, in a call) are exempt. Seconds come from ?idle=N or <body data-idle-seconds>.

const ACTIVITY_EVENTS = ["pointerdown", "touchstart", "keydown", "input", "wheel"];

/** Start watching; `onIdle` is called once per idle period while `isExempt()` is false. */
export function startIdleTimer({ seconds, isExempt, onIdle }) {
  let timer = null;
  const arm = () => {
    clearTimeout(timer);
    if (isExempt()) return;
    timer = setTimeout(() => {
      if (!isExempt()) onIdle();
    }, seconds * 1000);
  };
  for (const type of ACTIVITY_EVENTS) document.addEventListener(type, arm, { capture: true, passive: true });
  arm();
  // Returned so a screen change can re-arm (entering an exempt screen stops the clock).
  return { reset: arm };
}

/** The idle timeout in seconds: ?idle=N, else data-idle-seconds on <body>, else 90. */
export function idleSeconds(defaultSeconds = 90) {
  const fromQuery = Number(new URLSearchParams(location.search).get("idle"));
  if (fromQuery > 0) return fromQuery;
  const fromBody = Number(document.body.dataset.idleSeconds);
  return fromBody > 0 ? fromBody : defaultSeconds;
}
