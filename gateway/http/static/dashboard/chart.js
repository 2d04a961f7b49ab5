// A time-series chart (uPlot, vendored) with its data as a table beside it, for keyboards and screen readers.
//
// The chart reads its colours from the stylesheet's custom properties, so it follows the light or dark scheme
// (and is redrawn when the system setting changes), and labels time in the product's time zone.

import uPlot from "uplot";
import { h } from "./dom.js";
import { axisLabel, bucketLabel } from "./format.js";

function css(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

const schemes = window.matchMedia("(prefers-color-scheme: dark)");

/**
 * A chart of one series in `container` (emptied first).
 * `points`: [{t: epoch ms, v: number | null}] (null: no value yet, e.g. a future hour), `name` the measure,
 * `format` its number format, `grain` HOUR / DAY / MONTH (labels), `bars` for a bar chart, `steps` the value
 * axis's steps (`COUNT_STEPS` by default, `DURATION_STEPS` for seconds, null for any number).
 * Returns `destroy()`; the chart follows the container's width.
 */
// steps of the value axis: whole counts (no "0.5 sessions"), or durations in round seconds, minutes, hours
const COUNT_STEPS = [1, 2, 5].flatMap((m) => [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9].map((p) => m * p)).sort((a, b) => a - b);
const DURATION_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 432000, 864000, 2592000];

export function timeChart(container, { points, name, format, grain, timeZone, bars = false, height = 260, steps = COUNT_STEPS }) {
  container.replaceChildren();
  const plot = h("div", { class: "chart-plot" });
  const values = points.map((p) => p.v).filter((v) => v !== null);
  const total = values.reduce((a, b) => a + b, 0);
  const peak = points.reduce((best, p) => (p.v !== null && (best === null || p.v > best.v) ? p : best), null);
  const summary = values.length
    ? `${name}, ${points.length} points from ${bucketLabel(points[0].t, grain, timeZone)}: highest ${format(peak.v)} at ${bucketLabel(peak.t, grain, timeZone)}.`
    : `${name}: no data.`;
  const figure = h("figure", {
    class: "chart",
    role: "img",
    "aria-label": summary,
    "data-points": points.length,
    "data-total": total,
  }, plot);
  const rows = points.map((p) => h("tr", {}, h("th", { scope: "row" }, bucketLabel(p.t, grain, timeZone)), h("td", {}, p.v === null ? "–" : format(p.v))));
  const table = h("details", { class: "chart-data" },
    h("summary", {}, "Show the chart's data as a table"),
    h("table", {}, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Time"), h("th", { scope: "col" }, name))), h("tbody", {}, rows)));
  container.append(figure, table);

  let chart = null;
  const data = [points.map((p) => p.t / 1000), points.map((p) => p.v)];

  // the hovered bucket, written over the plot (uPlot's own legend would show dashes until a point is hovered)
  const tip = h("div", { class: "chart-tip", hidden: true, "aria-hidden": "true" });

  function showTip(u) {
    const i = u.cursor.idx;
    if (i === null || i === undefined || points[i] === undefined) {
      tip.hidden = true;
      return;
    }
    const p = points[i];
    tip.replaceChildren(h("span", { class: "muted" }, bucketLabel(p.t, grain, timeZone)), h("strong", {}, p.v === null ? "–" : format(p.v)));
    tip.hidden = false;
    const x = u.valToPos(p.t / 1000, "x");
    const left = Math.min(Math.max(0, x - tip.offsetWidth / 2), u.over.clientWidth - tip.offsetWidth);
    tip.style.left = `${left}px`;
  }

  function options(width) {
    const line = css("--chart-line");
    const muted = css("--text-muted");
    const grid = css("--grid");
    return {
      width,
      height,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), timeZone),
      legend: { show: false },
      cursor: { points: { size: 8, fill: line }, drag: { x: false, y: false } },
      scales: {
        x: { time: true },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      series: [
        {},
        {
          label: name,
          stroke: line,
          fill: css("--chart-fill"),
          width: 2,
          spanGaps: false,
          points: { show: !bars && points.length <= 62, size: 5, fill: line },
          paths: bars ? uPlot.paths.bars({ size: [0.7, 40] }) : undefined,
        },
      ],
      axes: [
        {
          stroke: muted,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid, width: 1 },
          // ticks on bucket starts only (never between two days), as many as fit; labels in the browser's
          // language and the product's time zone
          splits: (u) => {
            const xs = u.data[0];
            const fit = Math.max(2, Math.floor(u.bbox.width / devicePixelRatio / 72));
            const step = Math.ceil(xs.length / fit);
            return xs.filter((_x, i) => i % step === 0);
          },
          values: (_u, splits) => splits.map((v) => axisLabel(v * 1000, grain, timeZone)),
        },
        {
          stroke: muted,
          grid: { stroke: grid, width: 1 },
          ticks: { show: false },
          size: 64,
          incrs: steps || undefined,
          values: (_u, splits) => splits.map((v) => format(v)),
        },
      ],
      hooks: { setCursor: [showTip] },
    };
  }

  function draw() {
    if (chart) chart.destroy();
    plot.replaceChildren();
    chart = new uPlot(options(Math.max(240, plot.clientWidth || container.clientWidth || 600)), data, plot);
    chart.over.append(tip);
  }

  draw();
  let lastWidth = plot.clientWidth;
  const resize = new ResizeObserver(() => {
    const width = plot.clientWidth;
    if (chart && width && width !== lastWidth) {
      lastWidth = width;
      chart.setSize({ width: Math.max(240, width), height });
    }
  });
  resize.observe(plot);
  schemes.addEventListener("change", draw);

  return {
    destroy() {
      resize.disconnect();
      schemes.removeEventListener("change", draw);
      if (chart) chart.destroy();
      chart = null;
    },
  };
}

export { COUNT_STEPS, DURATION_STEPS };
