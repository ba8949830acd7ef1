// The two controls every call screen shows, kiosk and console alike: the connection-quality
// indicator and the microphone button. The words come from the page's own texts.

/**
 * Show a quality level (from watchQuality) on the indicator under `root`.
 * @param {Element} root the call screen
 * @param {string} level unknown | good | fair | poor
 * @param {Record<string, string>} labels the page's words for each level
 */
export function showQuality(root, level, labels) {
  root.querySelector('[data-testid="call-quality"]').dataset.level = level;
  root.querySelector('[data-role="quality-text"]').textContent = labels[level];
}

/**
 * Draw the mute button under `root` as pressed or not.
 * @param {Element} root the call screen
 * @param {boolean} muted whether the microphone is muted
 * @param {(node: Element, key: string) => void} setText the page's text setter
 */
export function renderMute(root, muted, setText) {
  const button = root.querySelector('[data-action="mute"]');
  button.setAttribute("aria-pressed", String(muted));
  button.classList.toggle("is-muted", muted);
  setText(button, muted ? "unmute" : "mute");
}
