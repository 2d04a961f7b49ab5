// Live: the events, sessions and visitors of the last minutes, updated as they are stored, through the graph's
// `productActivity` subscription (websocket, graphql-transport-ws) with reconnection (operations/live.graphql).
//
// The counts are read with a query when the socket opens (so a reconnection catches up on what it missed) and
// every minute (so the window slides), and grow with every update the subscription brings in between.

import { documents, run, token } from "./api.js";
import { timeChart } from "./chart.js";
import { announce, emptyState, fill, h } from "./dom.js";
import { count, time } from "./format.js";
import { LiveSubscription } from "./socket.js";
import { iso } from "./time.js";

const WINDOW_MINUTES = 30;
const VISITOR_MINUTES = 5;
const FEED_SIZE = 20;

export async function renderLive(main, ctx) {
  const { product } = ctx;
  const tz = product.timezone;
  const state = {
    events: 0,
    sessions: 0,
    visitors: new Set(), // device ids
    hiddenVisitors: 0, // devices beyond the page read
    webVisitors: 0, // sessions of the site's pages (counted by the gateway)
    counted: new Set(), // ids of the events already in `events`
    sessionIds: new Set(), // ids of the sessions already in `sessions`
    feed: [], // newest first: {id, t, key, count, path, device}
    complete: true, // whether `feed` holds every event of the window (for the per-minute chart)
  };

  const status = h("p", { class: "live-status", role: "status", "data-state": "connecting" }, "Connecting…");
  const tiles = h("div", { class: "tiles tiles-live" });
  const chartBox = h("div", { class: "chart-body" });
  const feedList = h("ol", { class: "feed", "aria-label": "Latest events, newest first" });
  const note = h("p", { class: "muted" });
  fill(main,
    h("div", { class: "card-head" }, h("h1", {}, "Live"), status),
    tiles,
    h("section", { class: "card", "aria-labelledby": "live-chart-title" },
      h("h2", { id: "live-chart-title" }, `Events per minute, last ${WINDOW_MINUTES} minutes`), chartBox, note),
    h("section", { class: "card", "aria-labelledby": "feed-title" },
      h("h2", { id: "feed-title" }, "Latest events"), feedList));

  let chart = null;
  let drawTimer = 0;
  let lastDraw = 0;

  function tileOf(id, label, value, sub) {
    return h("div", { class: "tile", "data-live": id },
      h("span", { class: "tile-label" }, label),
      h("span", { class: "tile-value", "data-value": value }, count(value)),
      h("span", { class: "tile-sub" }, sub));
  }

  function draw() {
    lastDraw = Date.now();
    drawTimer = 0;
    fill(tiles,
      tileOf("events", "Events", state.events, `last ${WINDOW_MINUTES} minutes`),
      tileOf("sessions", "Sessions started", state.sessions, `last ${WINDOW_MINUTES} minutes`),
      tileOf("visitors", "Visitors", state.visitors.size + state.hiddenVisitors + state.webVisitors, `seen in the last ${VISITOR_MINUTES} minutes`));
    const now = Date.now();
    const end = Math.floor(now / 60000) * 60000;
    const start = end - (WINDOW_MINUTES - 1) * 60000;
    const oldest = state.feed.length ? state.feed[state.feed.length - 1].t : now;
    const perMinute = new Map();
    for (const e of state.feed) {
      const minute = Math.floor(e.t / 60000) * 60000;
      perMinute.set(minute, (perMinute.get(minute) || 0) + 1);
    }
    const points = [];
    for (let t = start; t <= end; t += 60000) {
      const known = state.complete || t >= Math.floor(oldest / 60000) * 60000;
      points.push({ t, v: known ? perMinute.get(t) || 0 : null });
    }
    note.textContent = state.complete
      ? ""
      : `Before ${time(oldest, tz)} there were more events than the panel loads: those minutes are left blank.`;
    if (chart) chart.destroy();
    if (!state.events && !state.feed.length) {
      chart = null;
      fill(chartBox, emptyState("No event in the last 30 minutes.", h("p", {}, "Events appear here the moment they are stored; send one with the snippet on the Overview page, or from your app.")));
    } else {
      chart = timeChart(chartBox, { points, name: "Events", format: count, grain: "HOUR", timeZone: tz, bars: true, height: 180 });
    }
    fill(feedList, state.feed.slice(0, FEED_SIZE).map((e) => h("li", { "data-event-id": e.id },
      h("time", { datetime: new Date(e.t).toISOString() }, time(e.t, tz)),
      h("span", { class: "feed-key" }, e.key), e.count > 1 ? h("span", { class: "muted" }, ` ×${count(e.count)}`) : null,
      e.path ? h("span", { class: "muted" }, ` ${e.path}`) : null,
      h("span", { class: "feed-device muted" }, e.device ? e.device.deviceId : ""))));
    if (!state.feed.length) feedList.append(h("li", { class: "muted" }, "Nothing yet."));
  }

  function scheduleDraw() {
    if (drawTimer) return;
    // at most one redraw a second, however fast events arrive
    drawTimer = setTimeout(draw, Math.max(0, 1000 - (Date.now() - lastDraw)));
  }

  function eventOf(node) {
    return { id: node.id, t: Date.parse(node.timestamp), key: node.isPageview ? "pageview" : node.key, count: node.count, path: node.path, device: node.device };
  }

  // The updates that arrive while a refresh reads: its answer may have been read before they were stored, so
  // they are applied again over it (those it holds already are known by their ids and skipped).
  let arrivals = null;
  let refreshing = null;
  async function refresh() {
    const now = Date.now();
    const arrived = (arrivals = []);
    let data;
    try {
      data = await run("live", "LiveSince", {
        product: product.id,
        since: iso(now - WINDOW_MINUTES * 60000),
        visitorsSince: iso(now - VISITOR_MINUTES * 60000),
      });
    } finally {
      if (arrivals === arrived) arrivals = null;
    }
    const node = data.node;
    if (!node) throw new Error("This product no longer exists, or is not yours.");
    state.events = node.events.totalCount;
    state.sessions = node.sessions.totalCount;
    state.sessionIds = new Set(node.sessions.nodes.map((s) => s.id));
    state.feed = node.events.nodes.map(eventOf);
    state.counted = new Set(state.feed.map((e) => e.id));
    state.complete = node.events.totalCount <= node.events.nodes.length;
    state.visitors = new Set(node.devices.nodes.map((d) => d.deviceId));
    state.hiddenVisitors = node.devices.totalCount - node.devices.nodes.length;
    state.webVisitors = node.webAnalytics.recentVisitors;
    for (const update of arrived) apply(update);
    draw();
  }

  // count an update's events and sessions not counted yet; how many events it added
  function apply(update) {
    let added = 0;
    for (const node of update.events) {
      if (state.counted.has(node.id)) continue;
      state.counted.add(node.id);
      state.events += 1;
      state.feed.unshift(eventOf(node));
      if (node.device) state.visitors.add(node.device.deviceId);
      else recountWebVisitors();
      added += 1;
    }
    for (const session of update.sessions) {
      if (state.sessionIds.has(session.id)) continue;
      state.sessionIds.add(session.id);
      state.sessions += 1;
      if (session.device) state.visitors.add(session.device.deviceId);
    }
    state.feed.length = Math.min(state.feed.length, 500);
    return added;
  }

  function refreshSoon() {
    refreshing ||= refresh()
      .catch((error) => { status.textContent = error.message; })
      .finally(() => { refreshing = null; });
  }

  // a page's hit names no device: its visitor (a session) is counted by the gateway, asked again a few seconds
  // after hits arrive (once for all the hits of those seconds)
  let webTimer = 0;
  function recountWebVisitors() {
    webTimer ||= setTimeout(() => {
      webTimer = 0;
      refreshSoon();
    }, 5000);
  }

  await refresh();
  const every = setInterval(refreshSoon, 60000);
  const subscription = new LiveSubscription({
    query: documents.live,
    operationName: "LiveActivity",
    variables: { product: product.id },
    token: token(),
    onOpen: refreshSoon,
    onStatus: ({ state: s, message }) => {
      status.dataset.state = s;
      status.textContent = message;
    },
    onNext: (data) => {
      const update = data.productActivity;
      arrivals?.push(update);
      const added = apply(update);
      if (added) announce(`${added === 1 ? "1 new event" : `${added} new events`}`);
      scheduleDraw();
    },
  });
  return () => {
    subscription.close();
    clearInterval(every);
    clearTimeout(drawTimer);
    clearTimeout(webTimer);
    if (chart) chart.destroy();
  };
}
