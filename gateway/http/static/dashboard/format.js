// Numbers, durations, sizes and dates in the browser's locale (Intl), dates in the product's time zone.

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const compactFormat = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });
const percent = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 0 });
const signedPercent = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 0, signDisplay: "exceptZero" });
const units = {};

function unit(name) {
  units[name] ||= new Intl.NumberFormat(undefined, { style: "unit", unit: name, unitDisplay: "narrow", maximumFractionDigits: 0 });
  return units[name];
}

/** A count: `12,345` (in the browser's locale). */
export function count(n) {
  return integer.format(n);
}

/** A number with up to two decimals. */
export function number(n) {
  return decimal.format(n);
}

/** A short number for axes: `12K`, `1.2M`. */
export function compact(n) {
  return compactFormat.format(n);
}

/** A share from 0 to 1: `42%`. */
export function share(fraction) {
  return percent.format(fraction);
}

/** A time span in seconds, in its two largest units: `2h 5min`, `45s`, `3d 4h`. */
export function duration(seconds) {
  const s = Math.round(seconds);
  if (s < 60) return unit("second").format(s);
  const parts = [["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];
  const out = [];
  let rest = s;
  for (const [name, size] of parts) {
    const value = Math.floor(rest / size);
    rest -= value * size;
    if (value || out.length) out.push([name, value]);
    if (out.length === 2) break;
  }
  return out.filter(([, v], i) => v || i === 0).map(([name, v]) => unit(name).format(v)).join(" ");
}

/** Bytes in the largest unit that keeps a number ≥ 1: `1.2 MB`. */
export function bytes(n) {
  const names = ["byte", "kilobyte", "megabyte", "gigabyte"];
  let i = 0;
  let value = n;
  while (value >= 1000 && i < names.length - 1) {
    value /= 1000;
    i += 1;
  }
  return new Intl.NumberFormat(undefined, { style: "unit", unit: names[i], unitDisplay: "short", maximumFractionDigits: 1 }).format(value);
}

/**
 * The change from `previous` to `current`: its text and direction (`up`, `down`, `flat`, `new`, `none`).
 */
export function change(current, previous) {
  if (!previous) {
    return current ? { text: "new", direction: "new" } : { text: "–", direction: "none" };
  }
  const ratio = (current - previous) / previous;
  if (Math.abs(ratio) < 0.005) return { text: signedPercent.format(0), direction: "flat" };
  return { text: signedPercent.format(ratio), direction: ratio > 0 ? "up" : "down" };
}

const dateFormats = {};

function dateFormat(timeZone, options) {
  const key = timeZone + JSON.stringify(options);
  dateFormats[key] ||= new Intl.DateTimeFormat(undefined, { timeZone, ...options });
  return dateFormats[key];
}

/** A date range [since, until) of epoch milliseconds as local days of `timeZone`: `1 – 7 Dec 2026`. */
export function dayRange(since, until, timeZone) {
  const f = dateFormat(timeZone, { day: "numeric", month: "short", year: "numeric" });
  const last = until - 1;
  return f.formatRange ? f.formatRange(new Date(since), new Date(last)) : `${f.format(since)} – ${f.format(last)}`;
}

/** A bucket's start in `timeZone`, as precise as its grain. */
export function bucketLabel(epochMs, grain, timeZone) {
  const options = {
    HOUR: { weekday: "short", day: "numeric", month: "short", hour: "numeric", minute: "2-digit" },
    DAY: { weekday: "short", day: "numeric", month: "short", year: "numeric" },
    MONTH: { month: "long", year: "numeric" },
  }[grain] || { dateStyle: "medium" };
  return dateFormat(timeZone, options).format(epochMs);
}

/** A short label of a chart's time axis: `14:00`, `8 Nov`, `Nov 26`. */
export function axisLabel(epochMs, grain, timeZone) {
  const options = {
    HOUR: { hour: "numeric", minute: "2-digit" },
    DAY: { day: "numeric", month: "short" },
    MONTH: { month: "short", year: "2-digit" },
  }[grain] || { day: "numeric", month: "short" };
  return dateFormat(timeZone, options).format(epochMs);
}

/** A moment in `timeZone`: `14:03:27`, or with the date when `withDate`. */
export function time(epochMs, timeZone, withDate = false) {
  const options = withDate
    ? { dateStyle: "medium", timeStyle: "short" }
    : { hour: "2-digit", minute: "2-digit", second: "2-digit" };
  return dateFormat(timeZone, options).format(epochMs);
}

const regionNames = typeof Intl.DisplayNames === "function" ? new Intl.DisplayNames(undefined, { type: "region" }) : null;

/** A country's name in the browser's language from its ISO code (the browser's own data), or the code. */
export function country(code) {
  if (!code) return "Unknown";
  try {
    return (regionNames && /^[A-Za-z]{2}$/.test(code) && regionNames.of(code.toUpperCase())) || code;
  } catch {
    return code;
  }
}
