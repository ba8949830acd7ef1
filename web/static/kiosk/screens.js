// Which screen is on show. One <section data-screen> is visible at a time; screens register
// enter/leave hooks so each module sets itself up and tears down (camera, timers) on its own.
// A back stack gives every browsing screen a "返回" that goes where the resident came from.

const hooks = new Map(); // name -> {enter, leave}
const listeners = new Set();
let current = null;
let stack = [];

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
  document.body.dataset.currentScreen = name; // for CSS and tests; not data-screen, which marks sections
  if (hooks.get(name)?.enter) hooks.get(name).enter(arg);
  for (const callback of listeners) callback(name, previous);
}
