// Which screen is on show. One <section data-screen> is visible at a time; screens register
// enter/leave hooks so each module sets itself up and tears down (camera, timers) on its own.
// A back stack gives every browsing screen a "返回" that goes where the resident came from.

const hooks = new Map(); // name -> {enter, leave}
const listeners = new Set();
let current = null;
let stack = [];
let changedAt = -Infinity;

// A resident's double tap on a button that changes the screen must not become a tap on whatever
// the next screen has in that place (直接排队 → 不排了, 确认无误 → 确认签名). The second click of a
// double click carries detail > 1; such a click soon after a change is dropped.
const DOUBLE_TAP_MS = 600;
document.addEventListener("click", (event) => {
  if (event.detail > 1 && performance.now() - changedAt < DOUBLE_TAP_MS) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);

/** Something new took the place of what was tapped (a screen, a panel over the call): drop the
 * rest of a double tap for a moment. */
export function guardTaps() {
  changedAt = performance.now();
}

/** Register what happens when a screen is entered (with its argument) or left. */
export function register(name, { enter, leave } = {}) {
  hooks.set(name, { enter, leave });
}

/** The screen on show. */
export function currentScreen() {
  return current;
}

/** Be told of every screen change (name). */
export function onChange(callback) {
  listeners.add(callback);
}

/**
 * Show a screen. `push` keeps the previous one on the back stack (browsing forward);
 * without it the stack is cleared (a new phase: waiting, call, rating…).
 */
export function show(name, arg, { push = false } = {}) {
  if (push && current) stack.push(current);
  if (!push) stack = [];
  switchTo(name, arg);
}

/** True while browsing forward (a screen with 返回 to where the resident came from). */
export function canGoBack() {
  return stack.length > 0;
}

/** Go back one step (to start when the stack is empty). */
export function back() {
  switchTo(stack.pop() || "start");
}

function switchTo(name, arg) {
  const previous = current;
  if (previous && hooks.get(previous)?.leave) hooks.get(previous).leave();
  for (const section of document.querySelectorAll("section[data-screen]")) {
    section.hidden = section.dataset.screen !== name;
  }
  current = name;
  guardTaps();
  document.body.dataset.currentScreen = name; // for CSS and tests; not data-screen, which marks sections
  if (hooks.get(name)?.enter) hooks.get(name).enter(arg);
  for (const callback of listeners) callback(name, previous);
}
