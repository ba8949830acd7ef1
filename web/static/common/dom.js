// DOM helpers shared by the kiosk, the caseworker console and the supervisor dashboard, so page
// modules stay about behaviour, not element plumbing. Each page's own dom.js binds the text
// helpers to its texts table (`textHelpers(T)`) and re-exports the rest: every Chinese word
// stays in that page's texts.js and templates carry only data-text keys.

/** The first element with data-role=name, else data-testid=name, inside root. */
export function role(name, root = document) {
  return root.querySelector(`[data-role="${name}"]`) || root.querySelector(`[data-testid="${name}"]`);
}

/** Create an element: el("li", {class: "x", text: "…", data: {k: "v"}, attrs: {…}}, [children]). */
export function el(tag, { class: className, text, data, attrs } = {}, children = []) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [key, value] of Object.entries(data || {})) node.dataset[key] = value;
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  for (const child of children) node.append(child);
  return node;
}

/** Show a message in an error line, or hide the line when message is empty. */
export function showError(node, message) {
  node.textContent = message || "";
  node.hidden = !message;
}

const FILLERS = [
  ["text", (node, value) => { node.textContent = value; }],
  ["placeholder", (node, value) => { node.placeholder = value; }],
  ["aria", (node, value) => { node.setAttribute("aria-label", value); }],
];

/**
 * The helpers that read a page's texts table T:
 * - applyTexts(root): fill data-text / data-placeholder / data-aria keys (the template holds no literals);
 * - setText(node, key): set a node's text from a key and remember the key, so a re-apply keeps it.
 */
export function textHelpers(T) {
  function applyTexts(root = document) {
    for (const [attribute, apply] of FILLERS) {
      for (const node of root.querySelectorAll(`[data-${attribute}]`)) {
        const value = T[node.dataset[attribute]];
        if (typeof value === "string") apply(node, value);
      }
    }
  }
  function setText(node, key) {
    node.dataset.text = key;
    node.textContent = T[key];
  }
  return { applyTexts, setText };
}
