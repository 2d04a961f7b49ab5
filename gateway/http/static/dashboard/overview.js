// The overview of a period: tiles with their change against the previous period, one chart switchable between
// the tiles' measures, and ranked tables. All of it comes from two GraphQL requests sent at once
// (operations/overview.graphql: `Overview` and `OverviewTables`).

import { run } from "./api.js";
import { DURATION_STEPS, timeChart } from "./chart.js";
import { emptyState, fill, h, snippet } from "./dom.js";
import { change, count, country, duration } from "./format.js";
import { rankedTable } from "./tables.js";
import { civil, iso, zoned } from "./time.js";

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
  {
    id: "pageviews",
    label: "Pageviews",
    total: (p) => p.web.pageviews,
    source: "web",
    point: (b) => b.pageviews,
    format: count,
    note: (p) => (p.web.eventPageviews ? `${count(p.web.eventPageviews)} of them events` : null),
  },
  { id: "visitors", label: "Visitors", total: (p) => p.web.visitors, source: "web", point: (b) => b.visitors, format: count },
  { id: "events", label: "Events", total: (p) => p.events.count, source: "events", point: (b) => b.count, format: count },
];

/**
 * A web series (dense arrays from a local wall-clock start, per hour or day) summed into the period's buckets
 * (days into months for 12 months), as the bucket list `pointsOf` reads.
 */
export function webSeries(series, period, timeZone) {
  const sums = new Map();
  const m = series && series.size ? /^(\d{4})-(\d{2})-(\d{2})T(\d{2})/.exec(series.start) : null;
  if (!m) return [];
  const [year, month, day, hour] = m.slice(1).map(Number);
  const first = zoned(timeZone, year, month, day, hour);
  const starts = period.buckets;
  for (let i = 0; i < series.size; i += 1) {
    let t;
    if (series.grain === "HOUR") {
      t = first + i * 3600000;
    } else {
      const d = civil(year, month, day + i);
      t = zoned(timeZone, d.year, d.month, d.day);
    }
    if (t < period.since || t >= period.until) continue;
    // the period's bucket holding t: the last one starting at or before it
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= t) lo = mid;
      else hi = mid - 1;
    }
    const sum = sums.get(starts[lo]) || { pageviews: 0, visitors: 0 };
    sum.pageviews += series.pageviews[i];
    sum.visitors += series.visitors[i];
    sums.set(starts[lo], sum);
  }
  return [...sums].map(([t, sum]) => ({ bucket: new Date(t).toISOString(), ...sum }));
}

const SIZE_NAMES = { phone: "Phones", tablet: "Tablets", desktop: "Desktops", desktophd: "Large desktops", unknown: "Unknown" };

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
  // count.js names its site by the host it sends to: the product's own domain, or its site code's subdomain
  const counter = product.hosts.length
    ? `${location.protocol}//${product.hosts[0]}`
    : `${location.protocol}//${product.siteCode}.<your gateway's domain>`;
  return [
    h("p", {}, "Send a first session and event the way a Countly SDK does, with this product's app key:"),
    snippet(`curl -g '${origin}/i?app_key=${product.appKey}&device_id=first-device&begin_session=1&events=[{"key":"signup","count":1}]'`, "A first event with curl"),
    h("p", {}, "or point an SDK at the gateway:"),
    snippet(`Countly.init({ app_key: "${product.appKey}", url: "${origin}" });`, "Countly SDK set-up"),
    h("p", {}, "For a web site, add the gateway's count.js to its pages",
      product.hosts.length ? ":" : " (give the product a host of its own with updateProduct's hosts, or use its site code's subdomain):"),
    snippet(`<script data-goatcounter="${counter}/count" async src="${origin}/count.js"></script>`, "count.js on a web page"),
  ];
}

function appTables(metrics, total) {
  const none = "No sessions in this period.";
  const table = (id, title, metric, options = {}) => rankedTable({
    id, title, measure: "Sessions", rows: metricRows(metrics, metric, options.label), total, columns: ["New users"], empty: none, ...options,
  });
  return [
    table("app-versions", "App versions", "APP_VERSION"),
    table("platforms", "Platforms", "OS", {
      detail: () => [rankedTable({ id: "platform-versions", title: "Platform versions", measure: "Sessions", rows: metricRows(metrics, "OS_VERSION"), total, limit: Infinity, empty: none })],
    }),
    table("countries", "Countries", "COUNTRY", { label: country }),
  ];
}

function webRows(list, label) {
  return list.stats.map((s) => ({ label: label(s), value: s.visitors, cells: [count(s.pageviews)], stat: s }));
}

function webTables(ctx, web, total, range, withCountries) {
  const { product } = ctx;
  const none = "No pageviews in this period.";
  const more = (list) => (list.more ? "Only the 50 values with the most visitors are listed." : "");
  const details = (dimension) => async (row) => {
    if (!row.stat.value) return [];
    const data = await run("web", "WebDetails", { product: product.id, dimension, value: row.stat.value, ...range });
    return data.node.webAnalytics.breakdownDetails.stats.map((s) => ({ label: s.name || s.value || "Unknown", value: s.visitors }));
  };
  const table = (id, title, list, label, dimension) => rankedTable({
    id, title, measure: "Visitors", rows: webRows(list, label), total, columns: ["Pageviews"], note: more(list), empty: none,
    rowDetail: dimension ? details(dimension) : null,
  });
  const pages = rankedTable({
    id: "pages",
    title: "Top pages",
    measure: "Visitors",
    rows: web.pages.pages.map((p) => ({
      label: p.path.event ? `${p.path.path} (event)` : p.path.path,
      title: p.path.title || p.path.path,
      value: p.visitors,
      cells: [count(p.pageviews)],
      stat: p,
    })),
    total,
    columns: ["Pageviews"],
    note: web.pages.more ? "Only the 50 pages with the most visitors are listed." : "",
    empty: none,
    rowDetail: async (row) => {
      const data = await run("web", "PageReferrers", { product: product.id, path: row.stat.path.id, ...range });
      return data.node.webAnalytics.breakdown.stats.map((s) => ({ label: s.name || s.value || "Direct or unknown", value: s.visitors }));
    },
  });
  return [
    pages,
    table("referrers", "Referrers", web.referrers, (s) => s.name || s.value || "Direct or unknown", "REFERRER"),
    table("browsers", "Browsers", web.browsers, (s) => s.name || s.value || "Unknown", "BROWSER"),
    table("systems", "Systems", web.systems, (s) => s.name || s.value || "Unknown", "SYSTEM"),
    table("sizes", "Screen sizes", web.sizes, (s) => SIZE_NAMES[s.value] || s.name || s.value || "Unknown", "SIZE"),
    withCountries ? table("locations", "Countries", web.locations, (s) => s.name || country(s.value), "LOCATION") : null,
  ].filter(Boolean);
}

export async function renderOverview(main, ctx) {
  const { product, period, params, signal } = ctx;
  fill(main, h("h1", { class: "sr-only" }, `Overview of ${product.name}`), h("p", { class: "notice", "aria-busy": "true" }, "Loading the overview…"));
  const range = { since: iso(period.since), until: iso(period.until) };
  // the tiles and chart, and the tables: two requests at once, the page waits for both
  const [data, tableData] = await Promise.all([
    run("overview", "Overview", {
      product: product.id,
      ...range,
      previousSince: iso(period.previousSince),
      previousUntil: iso(period.previousUntil),
      grain: period.grain,
      webGrain: period.grain === "HOUR" ? "HOUR" : "DAY",
      web: product.isSite,
      countEvents: !period.wholeBuckets,
    }, { signal }),
    run("overview", "OverviewTables", { product: product.id, ...range, web: product.isSite }, { signal }),
  ]);
  const node = data.node;
  const lists = tableData.node;
  if (!node || !lists) throw new Error("This product no longer exists, or is not yours.");
  const analytics = node.analytics;
  // a product that never counted a page reads no web analytics: zeros
  const none = { pageviews: 0, visitors: 0, eventPageviews: 0, series: null };
  const web = node.webAnalytics || { current: none, previous: none };
  const current = { ...analytics.periods[0], web: web.current };
  const previous = { ...analytics.periods[1], web: web.previous };
  if (period.wholeBuckets) {
    // the chart's buckets are the period's: their events summed are its total (see overview.graphql)
    current.events = { count: analytics.events.series.reduce((total, b) => total + b.count, 0) };
    previous.events = analytics.previousEvents[0].events;
  }
  const series = {
    sessions: analytics.sessions.series,
    events: analytics.events.series,
    web: webSeries(web.current.series, period, product.timezone),
  };
  // an app (sessions), a site (pageviews), or both: the tables of what the product has
  const hasApp = Boolean(current.sessions || previous.sessions);
  const hasWeb = Boolean(current.web.pageviews || previous.web.pageviews);
  const fallback = !hasApp && hasWeb ? "pageviews" : "sessions";
  let measure = MEASURES.find((m) => m.id === (params.measure || fallback)) || MEASURES[0];

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
    const nothing = !current.sessions && !current.events.count && !current.web.pageviews;
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
    ctx.setParams({ measure: measure.id === fallback ? null : measure.id }, { replace: true, render: false });
    drawTiles();
    drawChart();
    const pressed = tiles.querySelector(`[data-measure="${measure.id}"]`);
    if (pressed) pressed.focus();
  }

  drawTiles();
  const tables = h("div", { class: "tables" });
  if (lists.webAnalytics && (hasWeb || !hasApp)) {
    tables.append(...webTables(ctx, lists.webAnalytics, current.web.visitors, range, !hasApp));
  }
  if (hasApp || !hasWeb) tables.append(...appTables(lists.analytics.periods[0].metrics, current.sessions));
  fill(main, h("h1", { class: "sr-only" }, `Overview of ${product.name}`), tiles, chartCard, tables);
  drawChart();
  return () => {
    if (chart) chart.destroy();
  };
}
