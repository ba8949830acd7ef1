// The console's DOM helpers: the shared ones (common/dom.js) with the text helpers bound to agent/texts.js.
import { textHelpers } from "../common/dom.js";
import { T } from "./texts.js";

export { el, role, showError } from "../common/dom.js";
export const { applyTexts, setText } = textHelpers(T);
