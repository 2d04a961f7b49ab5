// The dashboard's shell: sign-in, the product and period pickers, the views, and the state in the URL
// (`?product=…&period=7d&view=events&event=purchase`), so that a view can be bookmarked and shared.
//
// Every view is a function `(container, ctx) => Promise<cleanup | null>` that reads the graph and draws into
// its container; a view started for an older URL draws into a container no longer on the page.

import { forgetToken, run, token, tokenOrigin, whenSignedOut } from "./api.js";
import { emptyState, errorBox, fill, h, snippet } from "./dom.js";
import { dayRange } from "./format.js";
import { renderEvents } from "./events.js";
import { renderExports } from "./exports.js";
import { renderLive } from "./live.js";
import { renderOverview } from "./overview.js";
import { signIn } from "./signin.js";
import { addDays, isoDate, MAX_CUSTOM_DAYS, parseDate, periodOf } from "./time.js";

const VIEWS = {
  overview: { title: "Overview", render: renderOverview, period: true },
  events: { title: "Events", render: renderEvents, period: true },
  live: { title: "Live", render: renderLive, period: false },
  exports: { title: "Exports", render: renderExports, period: true },
};

const main = document.getElementById("main");
const bar = document.getElementById("bar");
const productPicker = document.getElementById("product-picker");
const periodForm = document.getElementById("period-picker");
const customRange = document.getElementById("custom-range");
const customFrom = document.getElementById("custom-from");
const customTo = document.getElementById("custom-to");
const periodText = document.getElementById("period-text");

let products = [];
let tokenId = null;
let cleanup = null;
let controller = null;
let generation = 0;
let focusAfterRender = false;

function params() {
  return Object.fromEntries(new URLSearchParams(location.search));
}

/** Change the URL's state (null removes a key); `replace` keeps the history entry, `render` redraws. */
function setParams(changes, { replace = false, render: redraw = true } = {}) {
  const next = new URLSearchParams(location.search);
  for (const [key, value] of Object.entries(changes)) {
    if (value === null || value === undefined) next.delete(key);
    else next.set(key, value);
  }
  const query = next.toString();
  const url = `${location.pathname}${query ? `?${query}` : ""}`;
  if (url !== location.pathname + location.search) history[replace ? "replaceState" : "pushState"](null, "", url);
  if (redraw) render();
}

function hrefWith(changes) {
  const next = new URLSearchParams(location.search);
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) next.delete(key);
    else next.set(key, value);
  }
  return `?${next}`;
}

function drawBar(viewName, product, period, p) {
  for (const link of bar.querySelectorAll("[data-view]")) {
    const name = link.dataset.view;
    link.href = hrefWith({ view: name === "overview" ? null : name });
    if (name === viewName) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  productPicker.value = product.id;
  periodForm.hidden = !VIEWS[viewName].period;
  for (const button of periodForm.querySelectorAll("[data-period]")) {
    button.setAttribute("aria-pressed", String(button.dataset.period === period.key));
  }
  const custom = period.key === "custom";
  periodForm.querySelector("[data-period=custom]").setAttribute("aria-expanded", String(!customRange.hidden));
  if (custom || customRange.hidden) {
    customFrom.value = isoDate(period.first);
    customTo.value = isoDate(period.last);
  }
  if (p.period === "custom" && !custom) {
    periodText.textContent = "That custom range is not valid: showing the last 7 days.";
  } else {
    periodText.textContent = `${dayRange(period.since, period.until, product.timezone)} · ${product.timezone}`;
  }
}

async function render() {
  const p = params();
  const viewName = Object.hasOwn(VIEWS, p.view || "") ? p.view : "overview";
  const view = VIEWS[viewName];
  generation += 1;
  const mine = generation;
  if (controller) controller.abort();
  controller = new AbortController();
  if (cleanup) cleanup();
  cleanup = null;
  if (!products.length) {
    fill(main, emptyState("This account has no product yet.",
      h("p", {}, "Create one in ", h("a", { href: "/graphql" }, "GraphiQL"), " (with your token in its Headers pane), then reload this page:"),
      snippet('mutation { createProduct(input: {name: "My app", timezone: "Europe/Berlin"}) { id appKey } }', "Create a product")));
    return;
  }
  const product = products.find((x) => x.id === p.product) || products[0];
  if (p.product !== product.id) setParams({ product: product.id }, { replace: true, render: false });
  const period = periodOf(p, product.timezone);
  drawBar(viewName, product, period, p);
  document.title = `${view.title} · ${product.name} · Analytics`;
  const container = h("div", { class: "view", "data-view": viewName });
  fill(main, container);
  if (focusAfterRender) {
    focusAfterRender = false;
    main.focus();
  }
  const ctx = { product, products, period, params: params(), setParams, signal: controller.signal };
  try {
    const done = await view.render(container, ctx);
    if (mine !== generation) {
      if (done) done();
      return;
    }
    cleanup = done;
    container.dataset.ready = "true";
  } catch (error) {
    if (error.name === "AbortError" || mine !== generation) return;
    fill(container, errorBox(error.message), h("button", { type: "button", onclick: () => render() }, "Try again"));
    container.dataset.ready = "error";
  }
}

async function signOut(notice = "", revoke = false) {
  generation += 1;
  if (controller) controller.abort();
  if (cleanup) cleanup();
  cleanup = null;
  // a token from signing in is this tab's alone: revoke it (a pasted one may serve elsewhere: keep it)
  if (revoke && tokenId && tokenOrigin() === "login") {
    try {
      await run("session", "SignOut", { token: tokenId }, { quiet: true });
    } catch {
      // signed out here all the same; the token stays valid until revoked in GraphiQL
    }
  }
  tokenId = null;
  forgetToken();
  products = [];
  await boot(notice);
}

async function boot(notice = "") {
  bar.hidden = true;
  if (!token()) await signIn(main, notice);
  let data;
  const nodes = [];
  try {
    // every product, a page of 100 at a time (an account may have more than one page)
    let after = null;
    do {
      data = await run("session", "Products", { after }, { quiet: true });
      nodes.push(...data.products.nodes);
      const next = data.products.pageInfo;
      after = next.hasNextPage && next.endCursor !== after ? next.endCursor : null;
    } while (after);
  } catch (error) {
    if (error.status === 401) {
      forgetToken();
      return boot("Your session has ended: sign in again.");
    }
    fill(main, errorBox(error.message), h("button", { type: "button", onclick: () => boot() }, "Try again"));
    return undefined;
  }
  products = nodes.map((p) => ({ ...p, isSite: Boolean(p.webAnalytics && p.webAnalytics.paths.paths.length) }));
  tokenId = data.viewer.token ? data.viewer.token.id : null;
  document.getElementById("account-name").textContent = data.viewer.account.name;
  fill(productPicker, products.map((x) => h("option", { value: x.id }, x.name)));
  productPicker.disabled = products.length < 2;
  bar.hidden = false;
  return render();
}

productPicker.addEventListener("change", () => setParams({ product: productPicker.value, event: null, by: null }));

for (const link of bar.querySelectorAll("[data-view]")) {
  link.addEventListener("click", (event) => {
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    focusAfterRender = true;
    setParams({ view: link.dataset.view === "overview" ? null : link.dataset.view });
  });
}

for (const button of periodForm.querySelectorAll("[data-period]")) {
  button.addEventListener("click", () => {
    if (button.dataset.period === "custom") {
      customRange.hidden = !customRange.hidden;
      button.setAttribute("aria-expanded", String(!customRange.hidden));
      if (!customRange.hidden) customFrom.focus();
      return;
    }
    customRange.hidden = true;
    setParams({ period: button.dataset.period === "7d" ? null : button.dataset.period, from: null, to: null });
  });
}

periodForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const from = parseDate(customFrom.value);
  const to = parseDate(customTo.value);
  if (!from || !to || isoDate(from) > isoDate(to)) {
    periodText.textContent = "Choose a first day on or before the last day.";
    return;
  }
  if (isoDate(addDays(from, MAX_CUSTOM_DAYS)) <= isoDate(to)) {
    periodText.textContent = `Choose a range of at most ${MAX_CUSTOM_DAYS} days.`;
    return;
  }
  setParams({ period: "custom", from: isoDate(from), to: isoDate(to) });
});

document.getElementById("sign-out").addEventListener("click", () => signOut("You are signed out.", true));
document.getElementById("brand").addEventListener("click", (event) => {
  event.preventDefault();
  setParams({ view: null, event: null, by: null, measure: null });
});
window.addEventListener("popstate", () => render());
whenSignedOut(() => signOut("The gateway no longer accepts your token (it was revoked or has expired): sign in again."));

boot();
