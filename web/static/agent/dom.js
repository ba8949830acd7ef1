// Small DOM helpers so the console's modules stay about behaviour, not element plumbing.
import { T } from "./texts.js";

/** The first element with data-role=name, else data-testid=name, inside root. */
export function role(name, root = document) {
  return root.querySelector(`[data-role="${name}"]`) || root.querySelector(`[data-testid="${name}"]`);
}

/** Fill data-text / data-placeholder / data-aria keys from texts.js (the template holds no literals). */
export function applyTexts(root = document) {
  for (const node of root.querySelectorAll("[data-text]")) {
    const value = T[node.dataset.text];
    if (typeof value === "string") node.textContent = value;
  }
  for (const node of root.querySelectorAll("[data-placeholder]")) {
    const value = T[node.dataset.placeholder];
    if (typeof value === "string") node.placeholder = value;
  }
  for (const node of root.querySelectorAll("[data-aria]")) {
    const value = T[node.dataset.aria];
    if (typeof value === "string") node.setAttribute("aria-label", value);
  }
}

/** Set an element's text from a texts.js key. */
export function setText(node, key) {
  node.dataset.text = key;
  node.textContent = T[key];
}

/** Show a message in an error line, or hide the line when message is empty. */
export function showError(node, message) {
  node.textContent = message || "";
  node.hidden = !message;
}

/** Create an element: el("li", {class: "x", text: "…", data: {k: "v"}, attrs: {…}}, [children]). */
export function el(tag, { class: className, text, data, attrs } = {}, children = []) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  for (const [key, value] of Object.entries(data || {})) node.dataset[key] = value;
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  for (const child of children) node.append(child);
  return node;
}
