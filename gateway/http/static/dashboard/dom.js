// Small DOM helpers: elements built from data (never from HTML strings, so nothing a product sends is parsed as
// markup), and a polite announcement for screen readers.

/**
 * An element: `h("button", {type: "button", onclick: f, class: "x"}, "text", child)`.
 * Props starting with `on` are listeners, `class` / `for` / `aria-*` / `data-*` are attributes, `hidden`,
 * `disabled`, `value` and `checked` are properties; children are nodes or text (null and false are skipped).
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "hidden" || name === "disabled" || name === "value" || name === "checked" || name === "selected") {
      el[name] = value;
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace everything inside `el` with `children`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let announceTimer = 0;

/** Say `text` to screen readers (an aria-live region), without moving the focus. */
export function announce(text) {
  const region = document.getElementById("announce");
  if (!region) return;
  clearTimeout(announceTimer);
  region.textContent = "";
  announceTimer = setTimeout(() => { region.textContent = text; }, 50);
}

/** A panel saying what to do instead of a blank chart or table. */
export function emptyState(title, ...body) {
  return h("div", { class: "empty" }, h("p", { class: "empty-title" }, title), ...body);
}

/** A block of code with a button that copies it. */
export function snippet(code, label) {
  const pre = h("pre", { class: "snippet", tabindex: "0", "aria-label": label }, h("code", {}, code));
  const copy = h("button", {
    type: "button",
    class: "link-button",
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(code);
        copy.textContent = "Copied";
      } catch {
        copy.textContent = "Select the text to copy it";
      }
    },
  }, "Copy");
  return h("div", { class: "snippet-box" }, pre, copy);
}

/** An error message block (role=alert, so it is read out at once). */
export function errorBox(message) {
  return h("p", { class: "error", role: "alert" }, message);
}
