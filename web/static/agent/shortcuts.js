// Keyboard shortcuts, shown on their buttons: a caseworker works the queue all day and should not
// need the mouse for the commonest steps.
//   Enter / A   accept the offer          Esc   reject it
//   Ctrl+E      end the call (submit the outcome form, with its checks)
//   Ctrl+Enter  finish wrap-up
// A is ignored while typing; Enter also on a focused button or link, which Enter activates itself
// (the offer card focuses its accept button, so Enter still accepts).

const TYPING = new Set(["INPUT", "TEXTAREA", "SELECT"]);
const ACTIVATED_BY_ENTER = new Set(["BUTTON", "A"]);

/** Listen for the shortcuts; each action is a function doing nothing when it does not apply. */
export function setupShortcuts({ accept, reject, endCall, finishWrapUp, offerShown }) {
  document.addEventListener("keydown", (event) => {
    if (event.repeat) return;
    const key = event.key;
    if ((event.ctrlKey || event.metaKey) && key.toLowerCase() === "e") {
      event.preventDefault(); // the browser's own Ctrl+E focuses its search box
      endCall();
      return;
    }
    if ((event.ctrlKey || event.metaKey) && key === "Enter") {
      event.preventDefault();
      finishWrapUp();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || !offerShown()) return;
    if (key === "Escape") {
      event.preventDefault();
      reject();
      return;
    }
    const tag = event.target.tagName;
    if (TYPING.has(tag)) return;
    if ((key === "Enter" && !ACTIVATED_BY_ENTER.has(tag)) || key.toLowerCase() === "a") {
      event.preventDefault();
      accept();
    }
  });
}
