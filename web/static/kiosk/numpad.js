// A large numeric keypad for a phone number: 0-9, a hyphen for landlines (021-…), 删除.
// Residents tap; the field itself never opens the system keyboard.
import { el } from "./dom.js";
import { T } from "./texts.js";

const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "-", "0", "del"];
const MAX_LENGTH = 13; // 0571-12345678

/** Fill `container` with the keypad writing into `input`; `onChange(value)` after every key. */
export function setupNumpad(container, input, onChange = () => {}) {
  container.replaceChildren(...KEYS.map((key) => el("button", {
    class: "k-numkey", text: key === "del" ? T.keypad_delete : key, data: { key }, attrs: { type: "button" },
  })));
  container.addEventListener("click", (event) => {
    const key = event.target.closest("[data-key]")?.dataset.key;
    if (!key) return;
    if (key === "del") input.value = input.value.slice(0, -1);
    else if (input.value.length < MAX_LENGTH) input.value += key;
    onChange(input.value);
  });
}
