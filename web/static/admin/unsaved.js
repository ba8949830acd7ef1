// Edits not saved yet: the hours week and a matter's form. Leaving them (another centre or matter,
// another section, a reload, closing the tab) asks first, as a desktop editor would.
import { T } from "./texts.js";

const dirty = new Set();

/** Follow a form's edits: any input marks it changed until clean(form). */
export function watch(form) {
  const mark = () => dirty.add(form);
  form.addEventListener("input", mark);
  form.addEventListener("change", mark);
}

/** The form now shows what is stored (loaded or saved). */
export function clean(form) {
  dirty.delete(form);
}

/** Whether the page may move on: nothing unsaved, or the person agrees to drop it. */
export function mayLeave() {
  if (dirty.size === 0 || window.confirm(T.confirm_discard)) {
    dirty.clear();
    return true;
  }
  return false;
}

window.addEventListener("beforeunload", (event) => {
  if (dirty.size) event.preventDefault(); // the browser asks whether to leave
});
