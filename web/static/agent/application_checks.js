// The console's checks of the application form, the same rules as server/acceptance/checks.py:
// the caseworker learns at once which field is wrong; the server checks again and its answer counts.

// GB 11643-1999: weights of the first 17 digits; check = ID_CHECK[sum mod 11].
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = "10X98765432";

/** True for an existing date YYYY-MM-DD between 1900-01-01 and 2100-12-31. */
export function dateOk(value) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim());
  if (!match) return false;
  const [year, month, day] = match.slice(1).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  const real = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  return real && year >= 1900 && year <= 2100;
}

/** True for an 18-character 居民身份证号码 with a real birth date and the right check digit. */
export function idNumberOk(value) {
  const id = value.trim().toUpperCase();
  if (!/^\d{17}[\dX]$/.test(id)) return false;
  if (!dateOk(`${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`)) return false;
  const sum = ID_WEIGHTS.reduce((total, weight, i) => total + weight * Number(id[i]), 0);
  return ID_CHECK[sum % 11] === id[17];
}

/** True for a mainland mobile number or a landline with area code (010/02x + 8 digits, 0xxx + 7-8),
 * an extension allowed: the server's rule (server/hours/phone.py). */
export function phoneOk(value) {
  const phone = value.replace(/\s/g, "");
  return /^1[3-9]\d{9}$/.test(phone) || /^(0(10|2\d)-?\d{8}|0[3-9]\d{2}-?\d{7,8})(-\d{1,6})?$/.test(phone);
}

const CHECKS = { id_number: idNumberOk, date: dateOk, phone: phoneOk };

/**
 * The first problem of a filled form as [code, field], or null when it may be sent.
 * Codes are the server's (`form_field_missing`, `form_bad_id_number`, …) so one text table serves both.
 */
export function firstProblem(fields, values) {
  for (const field of fields) {
    const value = (values[field.key] || "").trim();
    if (!value) {
      if (field.required) return ["form_field_missing", field];
      continue;
    }
    const check = CHECKS[field.type];
    if (check && !check(value)) return [`form_bad_${field.type}`, field];
    if (field.type === "choice" && !field.choices.includes(value)) return ["form_bad_choice", field];
  }
  return null;
}
