// The outcome form and "结束通话". Checked here before anything is sent, so a caseworker learns
// at once what is missing (the server checks again: unknown_skill, case_number_typed):
//   受理 accepted    the server issues the case number (a typed one from another system only where
//                    JINGLIN_CASE_NUMBER_TYPED is on: <html data-case-typed="on">)
//   办结 completed / 咨询已答复 answered
//   转办 transfer    needs a skill; sends `transfer` (the ticket goes to the front of that queue)
//   材料不全 incomplete  needs at least one missing material: the unticked ones, each a checkbox
//                    (`missing-material`) the caseworker may clear; the checked ones are sent as
//                    `missing` and listed on the resident's receipt (一次性告知)
import { missingMaterials } from "./checklist.js";
import { el, role, showError } from "./dom.js";
import { getJson } from "../common/http.js";
import { T, errorText } from "./texts.js";

const OUTCOMES = ["accepted", "completed", "answered", "transfer", "incomplete"];
// Which extra fields each outcome shows.
const FIELDS = {
  accepted: ["case_number_auto", "case_number"],
  transfer: ["skill", "transfer_note"],
  incomplete: ["missing"],
};

let form;
let client;
let call = null;
let busy = false;
let onSending = () => {};
let skillsLoaded = null;

/**
 * @param {object} options
 * @param {WsClient} options.client
 * @param {(chosen: {outcome: string, case_number: string, skill: string}) => void} options.sending
 *   what is about to be sent (before the request: `call_ended` may overtake its `ok`)
 */
export function setupOutcome({ client: wsClient, sending }) {
  client = wsClient;
  onSending = sending;
  form = role("outcome-form");
  const select = field("outcome");
  select.replaceChildren(
    el("option", { text: T.outcome_choose, attrs: { value: "" } }),
    ...OUTCOMES.map((value) => el("option", { text: T.outcomes[value], attrs: { value } })),
  );
  select.addEventListener("change", showFields);
  // An error is about the form as it was: any edit takes it away.
  form.addEventListener("input", () => showError(role("outcome-error"), ""));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
}

/** A new call: empty form. */
export function resetOutcome(newCall) {
  call = newCall;
  busy = false;
  form.reset();
  showError(role("outcome-error"), "");
  showFields();
  if (!skillsLoaded) skillsLoaded = loadSkills();
}

/** Ctrl+E and the button: validate and end the call. */
export function submitOutcome() {
  if (call) submit();
}

/** Keep the 材料不全 list in step with the checklist. */
export function refreshMissing() {
  if (!form) return;
  showError(role("outcome-error"), "");
  const missing = missingMaterials();
  role("missing-list").textContent = missing.length ? missing.join("、") : T.missing_none;
  role("missing-checks").replaceChildren(...missing.map((name) => el("label", { class: "a-missing-check" }, [
    el("input", { attrs: { type: "checkbox", checked: "", "data-testid": "missing-material", "data-material": name } }),
    el("span", { text: name }),
  ])));
}

/** The materials ticked as missing in the outcome form. */
function checkedMissing() {
  return [...form.querySelectorAll('[data-testid="missing-material"]:checked')].map((box) => box.dataset.material);
}

function typedCaseNumbers() {
  return document.documentElement.dataset.caseTyped === "on";
}

function showFields() {
  const shown = new Set(FIELDS[field("outcome").value] || []);
  if (!typedCaseNumbers()) shown.delete("case_number");
  for (const node of form.querySelectorAll("[data-field]")) node.hidden = !shown.has(node.dataset.field);
  refreshMissing();
}

/** The form's values checked; {error} when something required is missing. */
function collect() {
  const outcome = field("outcome").value;
  const notes = field("notes").value.trim();
  if (!outcome) return { error: T.err_outcome, focus: "outcome" };
  if (outcome === "accepted") {
    const caseNumber = typedCaseNumbers() ? field("case_number").value.trim() : "";
    return { message: { type: "end_call", outcome, case_number: caseNumber, notes } };
  }
  if (outcome === "transfer") {
    const skill = field("skill").value;
    if (!skill) return { error: T.err_skill, focus: "skill" };
    const note = [field("transfer_note").value.trim(), notes].filter(Boolean).join("\n");
    return { message: { type: "transfer", skill, note: note.slice(0, 500) } };
  }
  if (outcome === "incomplete") {
    const missing = checkedMissing();
    if (!missing.length) return { error: T.err_missing };
    return { message: { type: "end_call", outcome, missing, notes } };
  }
  return { message: { type: "end_call", outcome, notes } };
}

async function submit() {
  if (busy || !call) return;
  const errorLine = role("outcome-error");
  const { error, focus, message } = collect();
  if (error) {
    showError(errorLine, error);
    if (focus) field(focus).focus();
    return;
  }
  showError(errorLine, "");
  busy = true;
  const button = form.querySelector('[data-testid="end-call"]');
  button.disabled = true;
  try {
    onSending({ outcome: field("outcome").value, case_number: message.case_number || "", skill: message.skill || "" });
    await client.request({ ...message, ticket_id: call.session_id });
  } catch (failure) {
    showError(errorLine, T.err_server + errorText(failure));
  } finally {
    busy = false;
    button.disabled = false;
  }
}

// Transfer targets: the skill vocabulary with its Chinese names (GET /api/v1/skills); a skill no
// active matter needs has no queue to transfer to, so it is left out.
async function loadSkills() {
  const select = field("skill");
  try {
    const { skills } = await getJson("/api/v1/skills");
    select.replaceChildren(
      el("option", { text: T.skill_choose, attrs: { value: "" } }),
      ...skills.filter((skill) => skill.matters > 0).map((skill) =>
        el("option", { text: T.skill_option(skill.name, skill.department, skill.matters), attrs: { value: skill.id } })),
    );
  } catch {
    skillsLoaded = null; // try again on the next call
  }
}

function field(name) {
  return form.elements.namedItem(name);
}
