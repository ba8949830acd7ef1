// Charts drawn with uPlot (web/static/vendor/uplot, MIT; version and source in docs/supervisor.md).
// One helper for every chart of the page: categories on x (groups or hours), bars and lines on y.
import uPlot from "../vendor/uplot/uPlot.esm.js";
import { T } from "./texts.js";

const COLOURS = ["#0b5cad", "#1b7f3a", "#b00020", "#c77700"];
const charts = new Map(); // container -> uPlot instance, replaced on every draw

// A chart is as wide as its container was when drawn: follow the window (a narrower window, a
// zoom) so it never holds its section wider than the screen.
let resizing = 0;
window.addEventListener("resize", () => {
  cancelAnimationFrame(resizing);
  resizing = requestAnimationFrame(() => {
    for (const [container, chart] of charts) {
      if (!container.isConnected) {
        charts.delete(container);
        continue;
      }
      // The container's own width, without the chart holding it open: hidden for the measure.
      chart.root.style.display = "none";
      const width = container.clientWidth;
      chart.root.style.display = "";
      chart.setSize({ width: Math.max(320, width || 800), height: chart.height });
    }
  });
});

/**
 * Draw categories (labels) with series [{label, values, kind: "bar"|"line"}] into container.
 */
export function drawCategories(container, labels, series) {
  charts.get(container)?.destroy();
  charts.delete(container);
  container.replaceChildren();
  if (!labels.length) return;
  const x = labels.map((_, i) => i);
  const bars = uPlot.paths.bars({ size: [0.6, 60] });
  const opts = {
    width: Math.max(320, container.clientWidth || 800),
    height: 260,
    scales: {
      x: { time: false, range: [-0.5, labels.length - 0.5] },
      // Counts start at zero: a bar from 1 up would misstate the volumes.
      y: { range: (u, min, max) => [0, Math.max(1, Math.ceil(max * 1.1))] },
    },
    axes: [
      {
        values: (u, ticks) => ticks.map((t) => (Number.isInteger(t) && labels[t] !== undefined ? shorten(labels[t]) : "")),
        incrs: [1, 2, 5, 10],
        rotate: labels.length > 12 ? -30 : 0,
      },
      {},
    ],
    series: [
      { label: T.col_group, value: (u, v) => (v === null || labels[v] === undefined ? "—" : labels[v]) },
      ...series.map((s, i) => ({
        label: s.label,
        stroke: COLOURS[i % COLOURS.length],
        fill: s.kind === "bar" ? `${COLOURS[i % COLOURS.length]}55` : undefined,
        width: s.kind === "bar" ? 1 : 2,
        paths: s.kind === "bar" ? bars : undefined,
        points: { show: s.kind === "line" },
      })),
    ],
  };
  charts.set(container, new uPlot(opts, [x, ...series.map((s) => s.values)], container));
}

function shorten(text) {
  return text.length > 8 ? `${text.slice(0, 7)}…` : text;
}
