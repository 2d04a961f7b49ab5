// The overview of a period: tiles with their change against the previous period, one chart switchable between
// the tiles' measures, and ranked tables. All of it comes from one GraphQL request (operations/overview.graphql).

import { run } from "./api.js";
import { DURATION_STEPS, timeChart } from "./chart.js";
import { emptyState, fill, h, snippet } from "./dom.js";
import { change, count, country, duration } from "./format.js";
import { rankedTable } from "./tables.js";
import { iso } from "./time.js";

/** The tiles, in order; each is also a measure of the chart (`point` reads a bucket of `source`). */
export const MEASURES = [
  { id: "sessions", label: "Sessions", total: (p) => p.sessions, source: "sessions", point: (b) => b.sessions, format: count },
  {
    id: "users",
    label: "Users",
    total: (p) => p.uniqueUsers,
    source: "sessions",
    point: (b) => b.uniqueUsers,
    format: count,
    note: (p) => (p.uniqueUsersEstimated ? "estimate over several days" : null),
  },
  { id: "new-users", label: "New users", total: (p) => p.newUsers, source: "sessions", point: (b) => b.newUsers, format: count },
  {
    id: "time-spent",
    label: "Time spent",
    total: (p) => p.duration,
    source: "sessions",
    point: (b) => b.duration,
    format: duration,
    steps: DURATION_STEPS,
    note: (p) => (p.sessions ? `${duration(p.duration / p.sessions)} per session` : null),
  },
  { id: "events", label: "Events", total: (p) => p.events.count, source: "events", point: (b) => b.count, format: count },
];

const GRAIN_WORDS = { HOUR: "hour", DAY: "day", MONTH: "month" };

/** The points of a measure on every bucket of the period: 0 where nothing was stored, null for the future. */
export function pointsOf(measure, series, buckets, now = Date.now()) {
  const byStart = new Map(series.map((b) => [Date.parse(b.bucket), b]));
  return buckets.map((t) => {
    if (t > now) return { t, v: null };
    const bucket = byStart.get(t);
    return { t, v: bucket ? measure.point(bucket) : 0 };
  });
}

function tile(measure, current, previous, pressed, onSelect) {
  const value = measure.total(current);
  const before = measure.total(previous);
  const delta = change(value, before);
  const note = measure.note ? measure.note(current) : null;
  return h("button", {
    type: "button",
    class: "tile",
    "aria-pressed": String(pressed),
    "data-measure": measure.id,
    onclick: () => onSelect(measure.id),
  },
  h("span", { class: "tile-label" }, measure.label),
  h("span", { class: "tile-value", "data-value": value }, measure.format(value)),
  h("span", { class: `tile-change ${delta.direction}` },
    h("span", { class: "sr-only" }, "Change against the previous period: "),
    delta.text),
  h("span", { class: "tile-sub" }, `${measure.format(before)} the period before`, note ? h("br") : null, note));
}

function metricRows(metrics, name, label = (v) => v || "Unknown") {
  const found = metrics.find((m) => m.metric === name);
  return (found ? found.values : []).map((v) => ({
    label: label(v.value),
    value: v.sessions,
    cells: [count(v.newUsers)],
  }));
}

function firstEventSnippets(product) {
  const origin = location.origin;
  return [
    h("p", {}, "Send a first session and event the way a Countly SDK does, with this product's app key:"),
    snippet(`curl -g '${origin}/i?app_key=${product.appKey}&device_id=first-device&begin_session=1&events=[{"key":"signup","count":1}]'`, "A first event with curl"),
    h("p", {}, "or point an SDK at the gateway:"),
    snippet(`Countly.init({ app_key: "${product.appKey}", url: "${origin}" });`, "Countly SDK set-up"),
  ];
}

export async function renderOverview(main, ctx) {
  const { product, period, params, signal } = ctx;
  fill(main, h("h1", { class: "sr-only" }, `Overview of ${product.name}`), h("p", { class: "notice", "aria-busy": "true" }, "Loading the overview…"));
  const data = await run("overview", "Overview", {
    product: product.id,
    since: iso(period.since),
    until: iso(period.until),
    previousSince: iso(period.previousSince),
    previousUntil: iso(period.previousUntil),
    grain: period.grain,
  }, { signal });
  const node = data.node;
  if (!node) throw new Error("This product no longer exists, or is not yours.");
  const analytics = node.analytics;
  const [current, previous] = analytics.periods;
  const series = { sessions: analytics.sessions.series, events: analytics.events.series };
  let measure = MEASURES.find((m) => m.id === params.measure) || MEASURES[0];

  const tiles = h("div", { class: "tiles", role: "group", "aria-label": "Totals of the period; choose one to chart it" });
  const chartCard = h("section", { class: "card chart-card", "aria-labelledby": "chart-title" });
  let chart = null;

  function drawTiles() {
    fill(tiles, MEASURES.map((m) => tile(m, current, previous, m === measure, select)));
  }

  function drawChart() {
    if (chart) chart.destroy();
    const title = h("h2", { id: "chart-title" }, `${measure.label} per ${GRAIN_WORDS[period.grain]}`);
    const body = h("div", { class: "chart-body" });
    fill(chartCard, title, body);
    const nothing = !current.sessions && !current.events.count;
    if (nothing) {
      chart = null;
      body.append(emptyState("Nothing was recorded in this period.", h("p", {}, "Choose a longer period above, or, if this product is new:"), ...firstEventSnippets(node)));
      return;
    }
    chart = timeChart(body, {
      points: pointsOf(measure, series[measure.source], period.buckets),
      name: measure.label,
      format: measure.format,
      steps: measure.steps,
      grain: period.grain,
      timeZone: product.timezone,
    });
  }

  function select(id) {
    measure = MEASURES.find((m) => m.id === id) || MEASURES[0];
    ctx.setParams({ measure: measure.id === MEASURES[0].id ? null : measure.id }, { replace: true, render: false });
    drawTiles();
    drawChart();
    const pressed = tiles.querySelector(`[data-measure="${measure.id}"]`);
    if (pressed) pressed.focus();
  }

  drawTiles();
  const metrics = current.metrics;
  const totalSessions = current.sessions;
  const none = "No sessions in this period.";
  const tables = h("div", { class: "tables" },
    rankedTable({ id: "app-versions", title: "App versions", measure: "Sessions", rows: metricRows(metrics, "APP_VERSION"), total: totalSessions, columns: ["New users"], empty: none }),
    rankedTable({
      id: "platforms",
      title: "Platforms",
      measure: "Sessions",
      rows: metricRows(metrics, "OS"),
      total: totalSessions,
      columns: ["New users"],
      empty: none,
      detail: () => [rankedTable({ id: "platform-versions", title: "Platform versions", measure: "Sessions", rows: metricRows(metrics, "OS_VERSION"), total: totalSessions, limit: Infinity, empty: none })],
    }),
    rankedTable({ id: "countries", title: "Countries", measure: "Sessions", rows: metricRows(metrics, "COUNTRY", country), total: totalSessions, columns: ["New users"], empty: none }));

  fill(main, h("h1", { class: "sr-only" }, `Overview of ${product.name}`), tiles, chartCard, tables);
  drawChart();
  return () => {
    if (chart) chart.destroy();
  };
}
