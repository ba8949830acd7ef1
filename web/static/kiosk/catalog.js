// The catalog screen: departments down the left, matters on the right, optional search.
// Search goes to the API (`q` understands Chinese, full pinyin and initials such as jlk); a
// letter keypad lets a resident type initials without the system keyboard.
import * as api from "./api.js";
import { el, role } from "./dom.js";
import * as screens from "./screens.js";
import { state } from "./state.js";
import { T } from "./texts.js";

const SEARCH_DELAY_MS = 250;
const KEYPAD_ROWS = ["QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM"];

let root;
let input;
let departmentOrder = [];
let selected = ""; // department filter; "" = all
let searchTimer = null;
let generation = 0; // drops answers of superseded requests

/** Wire the catalog screen; `onPick(matterId)` opens a matter. */
export function setupCatalog({ onPick }) {
  root = document.querySelector('[data-screen="catalog"]');
  input = root.querySelector('[data-testid="matter-search"]');
  input.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(refresh, SEARCH_DELAY_MS);
  });
  root.querySelector('[data-action="search-clear"]').addEventListener("click", () => {
    input.value = "";
    refresh();
  });
  role("keypad-toggle", root).addEventListener("click", () => toggleKeypad());
  buildKeypad();
  role("matters", root).addEventListener("click", (event) => {
    const item = event.target.closest("[data-matter-id]");
    if (item) onPick(item.dataset.matterId);
  });
  role("departments", root).addEventListener("click", (event) => {
    const button = event.target.closest("[data-department]");
    if (!button) return;
    selected = button.dataset.department;
    renderDepartments();
    refresh();
  });
  screens.register("catalog", { enter });
}

/** Forget the search and filter (idle timeout / home). */
export function resetCatalog() {
  if (!root) return;
  input.value = "";
  selected = "";
  toggleKeypad(false);
  role("matters", root).replaceChildren();
}

async function enter() {
  role("catalog-title", root).textContent = state.mode === "consult" ? T.catalog_title_consult : T.catalog_title_handle;
  if (!departmentOrder.length) {
    try {
      departmentOrder = (await api.departments()).map((d) => d.name);
    } catch {
      departmentOrder = [];
    }
  }
  renderDepartments();
  refresh();
}

function renderDepartments() {
  const nav = role("departments", root);
  const names = ["", ...departmentOrder];
  nav.replaceChildren(...names.map((name) => el("button", {
    class: "k-department" + (name === selected ? " is-selected" : ""),
    text: name || T.all_departments,
    data: { department: name },
    attrs: { type: "button", "aria-pressed": String(name === selected) },
  })));
}

async function refresh() {
  const mine = ++generation;
  let list;
  try {
    list = await api.matters({ q: input.value.trim(), department: selected, mode: state.mode });
  } catch {
    list = [];
  }
  if (mine !== generation) return;
  const ul = role("matters", root);
  ul.replaceChildren(...list.map((matter) => el("li", {}, [el("button", {
    class: "k-matter-item",
    data: { testid: "matter-item", matterId: matter.id },
    attrs: { type: "button" },
  }, [
    el("span", { class: "k-matter-name", text: matter.name }),
    el("span", { class: "k-matter-meta", text: `${matter.department} · ${matter.on_the_spot ? T.on_the_spot : T.separated}` }),
  ])])));
  ul.scrollTop = 0;
  role("matter-count", root).textContent = T.matter_count(list.length);
  role("matters-empty", root).hidden = list.length > 0;
}

function buildKeypad() {
  const pad = role("keypad", root);
  for (const row of KEYPAD_ROWS) {
    pad.append(el("div", { class: "k-keypad-row" }, [...row].map((letter) => el("button", {
      class: "k-key", text: letter, data: { key: letter.toLowerCase() }, attrs: { type: "button" },
    }))));
  }
  pad.append(el("div", { class: "k-keypad-row" }, [
    el("button", { class: "k-key k-key-wide", text: T.keypad_delete, data: { key: "delete" }, attrs: { type: "button" } }),
  ]));
  pad.addEventListener("click", (event) => {
    const key = event.target.closest("[data-key]")?.dataset.key;
    if (!key) return;
    input.value = key === "delete" ? input.value.slice(0, -1) : input.value + key;
    input.dispatchEvent(new Event("input"));
  });
}

function toggleKeypad(force) {
  const pad = role("keypad", root);
  pad.hidden = force === undefined ? !pad.hidden : !force;
  role("keypad-toggle", root).textContent = pad.hidden ? T.keypad_show : T.keypad_hide;
  root.classList.toggle("keypad-open", !pad.hidden);
}
