// Small DOM helpers so screen modules stay about behaviour, not element plumbing.
import { T } from "./texts.js";

/** The first element with data-role=name (or data-testid=name) inside root. */
export function role(name, root = document) {
  return root.querySelector(`[data-role="${name}"]`) || root.querySelector(`[data-testid="${name}"]`);
}

/** Fill data-text / data-placeholder keys from texts.js, so the template holds no literals. */
export function applyTexts(root = document) {
  for (const node of root.querySelectorAll("[data-text]")) {
    const value = T[node.dataset.text];
    if (typeof value === "string") node.textContent = value;
  }
  for (const node of root.querySelectorAll("[data-placeholder]")) {
    const value = T[node.dataset.placeholder];
    if (typeof value === "string") node.placeholder = value;
  }
}

/** Set an element's text from a texts.js key (and remember the key, so a re-apply keeps it). */
export function setText(node, key) {
  node.dataset.text = key;
  node.textContent = T[key];
}

/** Create an element: el("li", {class: "x", text: "…", data: {matterId: "…"}}, [children]). */
export function el(tag, { class: className, text, data, attrs } = {}, children = []) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  for (const [key, value] of Object.entries(data || {})) node.dataset[key] = value;
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  for (const child of children) node.append(child);
  return node;
}
