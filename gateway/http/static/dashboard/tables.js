// Ranked tables with bars: the top rows of a breakdown, expandable to every row and every column.

import { h } from "./dom.js";
import { count, share } from "./format.js";

/**
 * A card with a ranked table.
 * `rows`: [{label, value, cells: [...]}] ranked by `value` (the bar's length is its share of `total`);
 * `columns`: the headers of `cells`, shown when expanded; `limit` rows are shown until expanded;
 * `detail`: more cards shown when expanded (e.g. the versions of the platforms); `rowDetail(row)`: a promise of
 * a row's details ([{label, value}]), opened under the row by a click on its name; `note`: a line under the
 * expanded table; `empty`: what to say when there is no row.
 */
export function rankedTable({ id, title, measure, rows, total, columns = [], limit = 6, detail = null, rowDetail = null, note = "", empty, formatValue = count }) {
  const card = h("section", { class: "card ranked", "aria-labelledby": `${id}-title`, "data-table": id });
  const heading = h("h2", { id: `${id}-title` }, title);
  card.append(heading);
  if (!rows.length) {
    card.append(h("p", { class: "muted" }, empty));
    return card;
  }
  let expanded = false;
  const body = h("div", { class: "ranked-body" });
  const more = rows.length > limit || columns.length || detail || note;
  const opened = new Map(); // row index -> its detail row, while open
  const toggle = more
    ? h("button", { type: "button", class: "link-button", "aria-expanded": "false", "aria-controls": `${id}-body` }, "")
    : null;
  body.id = `${id}-body`;

  function render() {
    const shown = expanded ? rows : rows.slice(0, limit);
    const head = h("tr", {},
      h("th", { scope: "col" }, "Name"),
      h("th", { scope: "col", class: "num" }, measure),
      expanded ? columns.map((c) => h("th", { scope: "col", class: "num" }, c)) : null,
      h("th", { scope: "col", class: "num" }, "Share"));
    const width = 3 + (expanded ? columns.length : 0);
    const lines = shown.flatMap((row, index) => {
      const fraction = total > 0 ? row.value / total : 0;
      const bar = h("span", { class: "bar", "aria-hidden": "true" });
      bar.style.width = `${Math.max(0, Math.min(100, fraction * 100)).toFixed(1)}%`;
      const name = rowDetail
        ? h("button", {
          type: "button",
          class: "label-text row-toggle",
          title: row.title || row.label,
          "aria-expanded": String(opened.has(index)),
          onclick: () => toggleRow(index, row),
        }, row.label)
        : h("span", { class: "label-text", title: row.title || row.label }, row.label);
      const line = h("tr", {},
        h("th", { scope: "row", class: "label" }, bar, name),
        h("td", { class: "num" }, formatValue(row.value)),
        expanded ? row.cells.map((c) => h("td", { class: "num" }, c)) : null,
        h("td", { class: "num muted" }, share(fraction)));
      return opened.has(index) ? [line, opened.get(index)] : [line];
    });

    function toggleRow(index, row) {
      if (opened.has(index)) {
        opened.delete(index);
        render();
        return;
      }
      const cell = h("td", { colspan: String(width), class: "row-detail", "aria-live": "polite" }, h("span", { class: "muted" }, "Loading…"));
      opened.set(index, h("tr", { class: "detail-row" }, cell));
      render();
      rowDetail(row).then((details) => {
        const sum = details.reduce((a, d) => a + d.value, 0);
        cell.replaceChildren(details.length
          ? h("ul", { class: "details" }, details.map((d) => {
            const bar = h("span", { class: "bar", "aria-hidden": "true" });
            bar.style.width = `${sum ? ((d.value / sum) * 100).toFixed(1) : 0}%`;
            return h("li", {}, bar, h("span", { class: "label-text" }, d.label), h("span", { class: "num" }, formatValue(d.value)));
          }))
          : h("span", { class: "muted" }, "No details recorded."));
      }, (error) => {
        cell.replaceChildren(h("span", { class: "error-text" }, error.message));
      });
    }
    body.replaceChildren(h("table", { class: "ranked-table" }, h("thead", {}, head), h("tbody", {}, lines)));
    if (expanded && note) body.append(h("p", { class: "muted small" }, note));
    if (expanded && detail) body.append(...detail());
    if (toggle) {
      toggle.setAttribute("aria-expanded", String(expanded));
      toggle.textContent = expanded ? "Show less" : rows.length > limit ? `Show all ${count(rows.length)}` : "Show details";
    }
  }

  render();
  card.append(body);
  if (toggle) {
    toggle.addEventListener("click", () => {
      expanded = !expanded;
      render();
    });
    card.append(h("div", { class: "card-foot" }, toggle));
  }
  return card;
}
