// "明天 09:00", "2月24日（周二）09:00": a moment in district time, said the way a resident says it.
// The server's ISO times carry +08:00; the kiosk's own clock and time zone are not trusted for this.

const WEEKDAYS = "日一二三四五六";
const DISTRICT_OFFSET_MS = 8 * 3600 * 1000;

/** The district's calendar day (as a UTC-based Date at midnight) and clock of an ISO time. */
function districtParts(iso) {
  const shifted = new Date(Date.parse(iso) + DISTRICT_OFFSET_MS);
  const day = Date.UTC(shifted.getUTCFullYear(), shifted.getUTCMonth(), shifted.getUTCDate());
  const clock = `${String(shifted.getUTCHours()).padStart(2, "0")}:${String(shifted.getUTCMinutes()).padStart(2, "0")}`;
  return { day, clock, month: shifted.getUTCMonth() + 1, date: shifted.getUTCDate(), weekday: shifted.getUTCDay() };
}

/** 今天/明天/后天 HH:MM, or M月D日（周X）HH:MM, relative to `nowIso` (default: now). */
export function whenText(iso, nowIso = new Date().toISOString()) {
  const at = districtParts(iso);
  const days = Math.round((at.day - districtParts(nowIso).day) / 86400000);
  if (days === 0) return `今天 ${at.clock}`;
  if (days === 1) return `明天 ${at.clock}`;
  if (days === 2) return `后天 ${at.clock}`;
  return `${at.month}月${at.date}日（周${WEEKDAYS[at.weekday]}）${at.clock}`;
}
