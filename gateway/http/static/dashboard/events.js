// Events: every key of the period with its count, sum and average; one key's series and its breakdown by one
// of its segmentation keys (operations/events.graphql).

import { run } from "./api.js";
import { DURATION_STEPS, timeChart } from "./chart.js";
import { emptyState, fill, h, snippet } from "./dom.js";
import { count, duration, number } from "./format.js";
import { pointsOf } from "./overview.js";
import { iso } from "./time.js";

const MEASURES = {
  count: { label: "Count", point: (b) => b.count, format: count },
  sum: { label: "Sum", point: (b) => b.sum, format: number, steps: null },
  duration: { label: "Duration", point: (b) => b.duration, format: duration, steps: DURATION_STEPS },
};

function average(sum, n) {
  return n ? number(sum / n) : "–";
}

function keyTable(keys, selected, choose) {
  const max = Math.max(1, ...keys.map((k) => k.count));
  const rows = keys.map((k) => {
    const bar = h("span", { class: "bar", "aria-hidden": "true" });
    bar.style.width = `${((k.count / max) * 100).toFixed(1)}%`;
    const link = h("a", {
      href: `?${new URLSearchParams({ ...Object.fromEntries(new URLSearchParams(location.search)), event: k.key })}`,
      "aria-current": k.key === selected ? "true" : null,
      onclick: (event) => {
        event.preventDefault();
        choose(k.key);
      },
    }, k.key);
    return h("tr", { class: k.key === selected ? "selected" : null },
      h("th", { scope: "row", class: "label" }, bar, h("span", { class: "label-text" }, link)),
      h("td", { class: "num" }, count(k.count)),
      h("td", { class: "num" }, number(k.sum)),
      h("td", { class: "num" }, average(k.sum, k.count)),
      h("td", { class: "num optional" }, k.duration ? duration(k.duration / k.count) : "–"));
  });
  return h("div", { class: "table-scroll" }, h("table", { class: "ranked-table events-table" },
    h("caption", { class: "sr-only" }, "Event keys of the period, by count"),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "Event"),
      h("th", { scope: "col", class: "num" }, "Count"),
      h("th", { scope: "col", class: "num" }, "Sum"),
      h("th", { scope: "col", class: "num" }, "Average"),
      h("th", { scope: "col", class: "num optional" }, "Avg. duration"))),
    h("tbody", {}, rows)));
}

function segmentTable(segments, total) {
  if (!segments.length) return h("p", { class: "muted" }, "No occurrence of this event carried this segmentation key in the period.");
  const sorted = [...segments].sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));
  return h("table", { class: "ranked-table" },
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "Value"),
      h("th", { scope: "col", class: "num" }, "Count"),
      h("th", { scope: "col", class: "num" }, "Sum"),
      h("th", { scope: "col", class: "num" }, "Average"))),
    h("tbody", {}, sorted.map((s) => {
      const bar = h("span", { class: "bar", "aria-hidden": "true" });
      bar.style.width = `${total ? ((s.count / total) * 100).toFixed(1) : 0}%`;
      return h("tr", {},
        h("th", { scope: "row", class: "label" }, bar, h("span", { class: "label-text" }, s.value || "(empty)")),
        h("td", { class: "num" }, count(s.count)),
        h("td", { class: "num" }, number(s.sum)),
        h("td", { class: "num" }, average(s.sum, s.count)));
    })));
}

export async function renderEvents(main, ctx) {
  const { product, period, params, signal } = ctx;
  fill(main, h("h1", {}, "Events"), h("p", { class: "notice", "aria-busy": "true" }, "Loading events…"));
  const asked = { key: params.event || "", segmentation: params.by || null };
  const variables = {
    product: product.id,
    since: iso(period.since),
    until: iso(period.until),
    grain: period.grain,
    key: asked.key,
    segmentation: asked.segmentation,
    withKey: Boolean(asked.key),
  };
  let data = await run("events", "Events", variables, { signal });
  let analytics = data.node && data.node.analytics;
  if (!analytics) throw new Error("This product no longer exists, or is not yours.");
  const keys = [...analytics.every.keys].sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
  if (!keys.length) {
    fill(main, h("h1", {}, "Events"), emptyState("No event was recorded in this period.",
      h("p", {}, "Choose a longer period above, or send an event with this product's app key:"),
      snippet(`curl -g '${location.origin}/i?app_key=${data.node.appKey}&device_id=first-device&events=[{"key":"purchase","count":1,"sum":9.99,"segmentation":{"plan":"pro"}}]'`, "An event with curl")));
    return null;
  }
  // no key asked (or one without occurrences in this period): the most frequent one; no segmentation key asked
  // (`by` absent; `by=` is "none"): the key's first one
  const key = keys.some((k) => k.key === asked.key) ? asked.key : keys[0].key;
  const info = analytics.eventKeys.find((k) => k.key === key) || { segmentations: [] };
  const known = info.segmentations.map((s) => s.key);
  const segmentation = params.by === "" ? null : known.includes(params.by) ? params.by : known[0] || null;
  if (key !== asked.key || segmentation !== asked.segmentation) {
    data = await run("events", "Events", { ...variables, key, segmentation, withKey: true }, { signal });
    analytics = data.node.analytics;
    // the URL names the key shown, so that the view can be shared as it is
    if (key !== asked.key) ctx.setParams({ event: key }, { replace: true, render: false });
  }
  const selected = analytics.selected;
  let measure = Object.hasOwn(MEASURES, params.measure || "") ? params.measure : "count";

  const chartBox = h("div", { class: "chart-body" });
  let chart = null;
  const measureButtons = h("div", { class: "segmented", role: "group", "aria-label": "Measure" });

  function draw() {
    if (chart) chart.destroy();
    const m = MEASURES[measure];
    chart = timeChart(chartBox, {
      points: pointsOf(m, selected.series, period.buckets),
      name: `${key}: ${m.label.toLowerCase()}`,
      format: m.format,
      steps: m.steps,
      grain: period.grain,
      timeZone: product.timezone,
    });
    fill(measureButtons, Object.entries(MEASURES).map(([id, m]) => h("button", {
      type: "button",
      "aria-pressed": String(id === measure),
      onclick: () => {
        measure = id;
        ctx.setParams({ measure: id === "count" ? null : id }, { replace: true, render: false });
        draw();
        measureButtons.querySelector(`[aria-pressed="true"]`).focus();
      },
    }, m.label)));
  }

  const picker = h("select", {
    id: "segmentation-picker",
    onchange: (event) => ctx.setParams({ by: event.target.value }),
  },
  h("option", { value: "", selected: !segmentation }, known.length ? "None" : "This event has no segmentation"),
  known.map((k) => h("option", { value: k, selected: k === segmentation }, k)));

  const segments = selected.keys[0] ? selected.keys[0].segments : [];
  fill(main,
    h("h1", {}, "Events"),
    h("div", { class: "events-layout" },
      h("section", { class: "card", "aria-labelledby": "keys-title" },
        h("h2", { id: "keys-title" }, `Event keys (${count(keys.length)})`),
        keyTable(keys, key, (chosen) => ctx.setParams({ event: chosen, by: null }))),
      h("section", { class: "card", "aria-labelledby": "event-title", "data-event": key },
        h("div", { class: "card-head" },
          h("h2", { id: "event-title" }, key),
          measureButtons),
        h("p", { class: "muted" },
          `${count(selected.count)} occurrences · sum ${number(selected.sum)} · average ${average(selected.sum, selected.count)}`),
        chartBox,
        h("div", { class: "card-head sub-head" },
          h("h3", {}, "Breakdown"),
          h("label", { class: "picker" }, h("span", { class: "picker-label" }, "by"), picker)),
        segmentation ? segmentTable(segments, selected.count) : h("p", { class: "muted" }, "Choose a segmentation key to break this event down."))));
  draw();
  return () => {
    if (chart) chart.destroy();
  };
}
