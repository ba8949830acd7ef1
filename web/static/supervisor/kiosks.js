// Kiosk list: health from GET /api/v1/kiosks/health, online dots kept current by the live figures.
import { getJson } from "../common/http.js";
import { el, role } from "./dom.js";
import { T } from "./texts.js";

/** Load every kiosk with its camera health and trend. */
export async function loadKiosks() {
  const data = await getJson("/api/v1/kiosks/health");
  role("kiosks").replaceChildren(...data.kiosks.map((k) => el("li", {
    class: "s-kiosk",
    data: { testid: "kiosk-status", kioskId: k.id, online: k.online ? "1" : "0", trend: k.trend_direction },
    attrs: { title: `${k.site} · ${k.label}\n${T.kiosk_last_seen(k.last_seen_at)}` },
  }, [
    el("span", { class: "s-dot" }),
    el("span", { class: "s-kiosk-name", text: `${k.site} · ${k.label}` }),
    el("span", { class: "s-kiosk-state", text: k.online ? T.kiosk_online : T.kiosk_offline }),
    el("span", { class: "s-muted", text: T.kiosk_camera(k.camera_health) }),
    ...(k.trend_direction === "declining" ? [el("span", { class: "s-pill s-warn", text: T.kiosk_declining })] : []),
  ])));
  counts();
}

/** Update the online state of listed kiosks from the live figures. */
export function markKiosks(items) {
  const list = role("kiosks");
  for (const item of items) {
    const node = list.querySelector(`[data-kiosk-id="${item.id}"]`);
    if (!node) continue;
    node.dataset.online = item.online ? "1" : "0";
    node.querySelector(".s-kiosk-state").textContent = item.online ? T.kiosk_online : T.kiosk_offline;
  }
  counts();
}

function counts() {
  const nodes = role("kiosks").children;
  const online = [...nodes].filter((n) => n.dataset.online === "1").length;
  role("kiosk-counts").textContent = T.kiosk_counts({ online, total: nodes.length });
}
