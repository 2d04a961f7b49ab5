// Exports: start one (events, sessions or devices; CSV or JSON; the chosen period or everything), follow its
// progress, and download the file. The `downloadUrl` needs the bearer token, which a plain link cannot send:
// the file is fetched with it and saved from memory (operations/exports.graphql).

import { download, run } from "./api.js";
import { announce, errorBox, fill, h } from "./dom.js";
import { bytes, count, dayRange, time } from "./format.js";
import { iso } from "./time.js";

const KINDS = { EVENTS: "Events", SESSIONS: "Sessions", DEVICES: "Devices" };
const FORMATS = { CSV: "CSV", JSON: "JSON" };
const POLL_MS = 1000;

function radios(name, options, chosen) {
  return h("fieldset", { class: "choices" },
    h("legend", {}, name === "kind" ? "What" : "Format"),
    Object.entries(options).map(([value, label]) => h("label", {},
      h("input", { type: "radio", name, value, checked: value === chosen }), ` ${label}`)));
}

export async function renderExports(main, ctx) {
  const { product, period } = ctx;
  const tz = product.timezone;
  const list = h("div", { class: "exports-list", "aria-live": "polite" });
  const problem = h("div");
  const start = h("button", { type: "submit", class: "primary" }, "Start the export");
  const periodBox = h("input", { type: "checkbox", name: "period", checked: true });
  const form = h("form", { class: "card export-form", "aria-labelledby": "new-export-title" },
    h("h2", { id: "new-export-title" }, "New export"),
    h("div", { class: "choices-row" }, radios("kind", KINDS, "EVENTS"), radios("format", FORMATS, "CSV")),
    h("label", { class: "check" }, periodBox, ` Only ${dayRange(period.since, period.until, tz)} (the chosen period); untick for everything`),
    h("div", { class: "form-row" }, start),
    problem);
  fill(main, h("h1", {}, "Exports"), form, h("section", { class: "card", "aria-labelledby": "exports-title" },
    h("h2", { id: "exports-title" }, "Recent exports"), list));

  const exports = new Map(); // id -> Export, newest first by createdAt
  const polls = new Map();
  let alive = true;

  function row(e) {
    const finished = e.status === "FINISHED";
    const progress = h("progress", { max: "1", value: String(e.progress), "aria-label": `Progress of export ${e.kind.toLowerCase()} ${e.format}` });
    const button = finished && e.downloadUrl
      ? h("button", { type: "button", class: "primary", "data-download": e.id, onclick: () => save(e, button) }, "Download")
      : null;
    const what = `${KINDS[e.kind]} · ${e.format}`;
    const range = e.since || e.until
      ? dayRange(Date.parse(e.since || e.until), Date.parse(e.until || e.since), tz)
      : "everything";
    return h("li", { class: "export", "data-export": e.id, "data-status": e.status },
      h("div", { class: "export-what" }, h("strong", {}, what), h("span", { class: "muted" }, ` ${range}, started ${time(Date.parse(e.createdAt), tz, true)}`)),
      h("div", { class: "export-state" },
        e.status === "FAILED"
          ? h("span", { class: "error-text" }, `Failed: ${e.error || "no reason given"}`)
          : finished
            ? h("span", {}, `${count(e.rows)} rows, ${bytes(e.size)}`)
            : [progress, h("span", { class: "muted" }, ` ${e.status === "PENDING" ? "waiting" : `${Math.round(e.progress * 100)}%`}`)],
        button));
  }

  function drawList() {
    const sorted = [...exports.values()].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
    fill(list, sorted.length
      ? h("ul", { class: "export-rows" }, sorted.map(row))
      : h("p", { class: "muted" }, "No export of this product yet: start one above."));
  }

  async function save(e, button) {
    button.disabled = true;
    button.textContent = "Downloading…";
    try {
      const { blob, filename } = await download(e.downloadUrl);
      const url = URL.createObjectURL(blob);
      const link = h("a", { href: url, download: filename, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      button.textContent = "Downloaded";
      announce(`Saved ${filename}`);
    } catch (error) {
      button.textContent = "Download";
      fill(problem, errorBox(error.message));
    } finally {
      button.disabled = false;
    }
  }

  function follow(e) {
    exports.set(e.id, e);
    if (e.status === "FINISHED" || e.status === "FAILED" || polls.has(e.id) || !alive) return;
    polls.set(e.id, setTimeout(async () => {
      polls.delete(e.id);
      try {
        const data = await run("exports", "ExportStatus", { id: e.id });
        if (!alive || !data.node) return;
        follow(data.node);
        if (data.node.status === "FINISHED") announce(`The ${KINDS[data.node.kind].toLowerCase()} export is ready to download`);
        drawList();
      } catch (error) {
        fill(problem, errorBox(error.message));
      }
    }, POLL_MS));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    start.disabled = true;
    fill(problem);
    try {
      const input = { productId: product.id, kind: data.get("kind"), format: data.get("format") };
      if (periodBox.checked) input.period = { since: iso(period.since), until: iso(period.until) };
      const started = await run("exports", "StartExport", { input });
      follow(started.startExport);
      drawList();
      announce("Export started");
    } catch (error) {
      fill(problem, errorBox(error.message));
    } finally {
      start.disabled = false;
    }
  });

  const data = await run("exports", "ProductExports", { product: product.id }, { signal: ctx.signal });
  if (!data.node) throw new Error("This product no longer exists, or is not yours.");
  for (const e of data.node.exports.nodes) follow(e);
  drawList();
  return () => {
    alive = false;
    for (const timer of polls.values()) clearTimeout(timer);
  };
}
