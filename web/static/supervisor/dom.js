// DOM helpers for the dashboard: find by data-role/testid, fill data-text keys, build elements.
import { T } from "./texts.js";

/** The first element with data-role=name, else data-testid=name. */
export function role(name, root = document) {
  return root.querySelector(`[data-role="${name}"]`) || root.querySelector(`[data-testid="${name}"]`);
}

/** Fill every data-text element from texts.js (the template holds no Chinese literals). */
export function applyTexts(root = document) {
  for (const node of root.querySelectorAll("[data-text]")) {
    const value = T[node.dataset.text];
    if (typeof value === "string") node.textContent = value;
  }
}

/** el("li", {class, text, data, attrs}, [children]) */
export function el(tag, { class: className, text, data, attrs } = {}, children = []) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [key, value] of Object.entries(data || {})) node.dataset[key] = value;
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  for (const child of children) node.append(child);
  return node;
}

/** Replace a select's options, keeping the current choice when it still exists. */
export function fillSelect(select, options) {
  const current = select.value;
  select.replaceChildren(...options.map(([value, label]) => el("option", { text: label, attrs: { value } })));
  if (options.some(([value]) => value === current)) select.value = current;
}

/** A table row from cell texts. */
export function row(cells, data) {
  return el("tr", { data }, cells.map((text) => el("td", { text })));
}

/** Local date YYYY-MM-DD of the browser (the district's browsers run on Shanghai time). */
export function today(offsetDays = 0) {
  const d = new Date(Date.now() + offsetDays * 86400000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}
