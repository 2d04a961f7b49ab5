// Periods in the product's time zone: local calendar days turned into instants (with Intl, so daylight saving
// time is right), the previous period of the same length, the chart's grain and its buckets.

const partFormats = {};

function parts(timeZone, epochMs) {
  partFormats[timeZone] ||= new Intl.DateTimeFormat("en-US", {
    timeZone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric",
  });
  const out = {};
  for (const p of partFormats[timeZone].formatToParts(new Date(epochMs))) {
    if (p.type !== "literal") out[p.type] = Number(p.value);
  }
  return out;
}

/** The offset of `timeZone` from UTC at an instant, in milliseconds. */
function offset(timeZone, epochMs) {
  const p = parts(timeZone, epochMs);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(epochMs / 1000) * 1000;
}

/** The instant of a local wall-clock time in `timeZone` (the earlier one when the clock goes back). */
export function zoned(timeZone, year, month, day, hour = 0) {
  const wall = Date.UTC(year, month - 1, day, hour);
  let t = wall - offset(timeZone, wall);
  const second = offset(timeZone, t);
  if (wall - second !== t) t = wall - second;
  return t;
}

/** A calendar day `{year, month, day}` (months from 1). */
export function civil(year, month, day) {
  const d = new Date(Date.UTC(year, month - 1, day));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** Today in `timeZone`. */
export function today(timeZone, now = Date.now()) {
  const p = parts(timeZone, now);
  return { year: p.year, month: p.month, day: p.day };
}

export function addDays(date, days) {
  return civil(date.year, date.month, date.day + days);
}

function addMonths(date, months) {
  return civil(date.year, date.month + months, 1);
}

/** `2026-12-07` */
export function isoDate(date) {
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${pad(date.year, 4)}-${pad(date.month)}-${pad(date.day)}`;
}

/** `{year, month, day}` of `2026-12-07`, or null. */
export function parseDate(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text || "");
  if (!m) return null;
  const date = civil(+m[1], +m[2], +m[3]);
  return isoDate(date) === text ? date : null;
}

function daysBetween(first, last) {
  return Math.round((Date.UTC(last.year, last.month - 1, last.day) - Date.UTC(first.year, first.month - 1, first.day)) / 86400000);
}

export const PRESETS = {
  today: "Today",
  "7d": "Last 7 days",
  "30d": "Last 30 days",
  "12m": "Last 12 months",
};

/** The longest custom range whose chart is drawn per day (longer ones are per month). */
const MAX_DAILY_DAYS = 186;
/** The longest custom range at all (the graph's periods are read day by day). */
export const MAX_CUSTOM_DAYS = 3 * 366;

/**
 * The period a URL asks for, in `timeZone`: `{key, first, last}` (local days, both included), the instants
 * `since` / `until` (closed-open), the previous period of the same length, the chart's `grain` and `buckets`
 * (epoch milliseconds of every bucket start; the API's buckets are matched to them).
 * Unknown or impossible values fall back to the last 7 days.
 */
export function periodOf(params, timeZone, now = Date.now()) {
  const key = params.period in PRESETS || params.period === "custom" ? params.period : "7d";
  const day = today(timeZone, now);
  let first;
  let last = day;
  let previousFirst;
  let previousLast;
  let grain = "DAY";
  if (key === "today") {
    first = day;
    grain = "HOUR";
  } else if (key === "7d" || key === "30d") {
    first = addDays(day, key === "7d" ? -6 : -29);
  } else if (key === "12m") {
    first = addMonths(day, -11);
    last = addDays(addMonths(day, 1), -1);
    previousFirst = addMonths(first, -12);
    previousLast = addDays(first, -1);
    grain = "MONTH";
  } else {
    const from = parseDate(params.from);
    const to = parseDate(params.to);
    if (!from || !to || daysBetween(from, to) < 0 || daysBetween(from, to) >= MAX_CUSTOM_DAYS) {
      return periodOf({ ...params, period: "7d" }, timeZone, now);
    }
    first = from;
    last = to;
    const length = daysBetween(first, last) + 1;
    grain = length <= 2 ? "HOUR" : length <= MAX_DAILY_DAYS ? "DAY" : "MONTH";
  }
  if (!previousFirst) {
    const length = daysBetween(first, last) + 1;
    previousLast = addDays(first, -1);
    previousFirst = addDays(first, -length);
  }
  const at = (date) => zoned(timeZone, date.year, date.month, date.day);
  const since = at(first);
  const until = at(addDays(last, 1));
  return {
    key,
    label: key === "custom" ? "Custom range" : PRESETS[key],
    first,
    last,
    since,
    until,
    previousSince: at(previousFirst),
    previousUntil: at(addDays(previousLast, 1)),
    grain,
    buckets: buckets(grain, first, last, since, until, timeZone),
    // the chart's buckets lie wholly inside the period (months only when it is whole months), so that their
    // sums are the period's totals
    wholeBuckets: grain !== "MONTH" || (first.day === 1 && addDays(last, 1).day === 1),
  };
}

function buckets(grain, first, last, since, until, timeZone) {
  const out = [];
  if (grain === "HOUR") {
    // local hours are whole UTC hours apart in every zone that shifts by whole or half hours of UTC offset
    for (let t = since; t < until; t += 3600000) out.push(t);
  } else if (grain === "DAY") {
    for (let d = first; daysBetween(d, last) >= 0; d = addDays(d, 1)) out.push(zoned(timeZone, d.year, d.month, d.day));
  } else {
    for (let m = civil(first.year, first.month, 1); daysBetween(m, last) >= 0; m = addMonths(m, 1)) {
      out.push(zoned(timeZone, m.year, m.month, 1));
    }
  }
  return out;
}

/** An instant as the graph's `DateTime` (ISO 8601 in UTC). */
export function iso(epochMs) {
  return new Date(epochMs).toISOString();
}
