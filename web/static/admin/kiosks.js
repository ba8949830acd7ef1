// Kiosks: enrol (token shown once, as a link, a QR code and a printable sheet), rotate, disable/enable.
import { getJson, postJson } from "./api.js";
import { button, change, role, row } from "./dom.js";
import { T } from "./texts.js";

function qrSource(svg) {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}

function showToken(result) {
  role("token-box").hidden = false;
  role("kiosk-token").textContent = result.token;
  const link = role("token-url");
  link.href = result.url;
  link.textContent = result.url;
  role("token-qr").src = qrSource(result.qr_svg);
  role("sheet-site").textContent = `${result.kiosk.site} · ${result.kiosk.label}`;
  role("sheet-qr").src = qrSource(result.qr_svg);
  role("sheet-url").textContent = result.url;
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai" }) : "—";
}

/** Read the kiosk list again. */
export async function loadKiosks() {
  const { kiosks } = await getJson("/api/v1/admin/kiosks");
  role("kiosks").replaceChildren(...kiosks.map((k) => {
    const state = k.enabled ? (k.online ? T.online : T.offline) : T.disabled;
    const actions = document.createElement("span");
    actions.append(button("rotate", "kiosk-rotate", async () => {
      if (!window.confirm(T.confirm_rotate)) return;
      showToken(await postJson(`/api/v1/admin/kiosks/${k.id}/rotate-token`, {}));
      await loadKiosks();
    }), k.enabled
      ? button("disable", "kiosk-disable", async () => {
        if (!window.confirm(T.confirm_disable_kiosk)) return;
        await postJson(`/api/v1/admin/kiosks/${k.id}/disable`, {});
        await loadKiosks();
      })
      : button("enable", "kiosk-enable", async () => { await postJson(`/api/v1/admin/kiosks/${k.id}/enable`, {}); await loadKiosks(); }));
    const camera = k.camera_health === null ? "—" : `${Math.round(k.camera_health * 100)}%`;
    return row([String(k.id), `${k.site} · ${k.label}`, state, when(k.last_seen_at), camera, actions],
      { data: { kioskId: k.id } });
  }));
}

/** Wire the kiosk section. */
export function startKiosks() {
  role("kiosk-form").addEventListener("submit", (event) => {
    event.preventDefault();
    change(async () => {
      const form = event.target;
      const site = form.elements.namedItem("site").value;
      const label = form.elements.namedItem("label").value.trim() || null;
      showToken(await postJson("/api/v1/admin/kiosks", { site, label }));
      await loadKiosks();
    }, event.target);
  });
  role("print-sheet").addEventListener("click", () => {
    role("sheet").hidden = false;
    window.print();
  });
}
