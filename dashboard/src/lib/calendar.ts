/**
 * The content calendar's days: a month or a week (Monday first) around a day, the days before and after,
 * the tenant's today, and the day a post falls on in the tenant's time zone. Days are `YYYY-MM-DD`
 * strings, counted in UTC arithmetic (a day string has no zone). Safe in server and client components.
 */
import { asDay } from "./dates";
import type { Post } from "./api/types";

export type CalendarView = "month" | "week";

/** How a post shows on the calendar: its colour and its legend entry. */
export type CalendarKind = "scheduled" | "published" | "failed" | "other";

const DAY_MS = 86_400_000;

function toMs(day: string): number {
  const [y, m, d] = day.split("-").map(Number);
  return Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1);
}

function fromMs(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function addDays(day: string, n: number): string {
  return fromMs(toMs(day) + n * DAY_MS);
}

/** The first day of `day`'s month moved by `n` months. */
export function addMonths(day: string, n: number): string {
  const d = new Date(toMs(day));
  return fromMs(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 1));
}

/** 0 for Monday … 6 for Sunday. */
export function weekday(day: string): number {
  return (new Date(toMs(day)).getUTCDay() + 6) % 7;
}

/** The day an instant falls on in `timeZone` (UTC for a zone the runtime does not know). */
export function dayIn(iso: string, timeZone: string): string {
  const at = new Date(iso);
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(at);
  } catch {
    return at.toISOString().slice(0, 10);
  }
}

/** The wall-clock time (`HH:mm`) of an instant in `timeZone`. */
export function timeIn(iso: string, timeZone: string): string {
  const at = new Date(iso);
  try {
    return new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(at);
  } catch {
    return at.toISOString().slice(11, 16);
  }
}

export interface CalendarRange {
  view: CalendarView;
  /** The day the view is about (today by default). */
  anchor: string;
  /** Every day shown, Monday first, whole weeks. */
  days: string[];
  /** The month shown (`YYYY-MM`); a week view's is its anchor's. */
  month: string;
  prev: string;
  next: string;
}

/** The days of a month view (whole weeks around the month) or a week view around `anchor`. */
export function calendarRange(view: CalendarView, anchor: string): CalendarRange {
  if (view === "week") {
    const start = addDays(anchor, -weekday(anchor));
    const days = Array.from({ length: 7 }, (_, i) => addDays(start, i));
    return { view, anchor, days, month: anchor.slice(0, 7), prev: addDays(anchor, -7), next: addDays(anchor, 7) };
  }
  const first = addMonths(anchor, 0);
  const last = addDays(addMonths(anchor, 1), -1);
  const start = addDays(first, -weekday(first));
  const end = addDays(last, 6 - weekday(last));
  const n = Math.round((toMs(end) - toMs(start)) / DAY_MS) + 1;
  const days = Array.from({ length: n }, (_, i) => addDays(start, i));
  return { view, anchor, days, month: first.slice(0, 7), prev: addMonths(anchor, -1), next: addMonths(anchor, 1) };
}

/** The view and day a page's search parameters ask for (month and today when absent or malformed). */
export function calendarParams(sp: Record<string, string | undefined>, today: string): CalendarRange {
  const view: CalendarView = sp.view === "week" ? "week" : "month";
  return calendarRange(view, asDay(sp.date) ?? today);
}

export function calendarKind(status: Post["status"]): CalendarKind {
  if (status === "scheduled" || status === "published" || status === "failed") return status;
  return "other";
}

/** Posts by the day they fall on in `timeZone`, each day's in time order. */
export function postsByDay(posts: Post[], timeZone: string): Map<string, Post[]> {
  const out = new Map<string, Post[]>();
  const sorted = [...posts].sort((a, b) => Date.parse(a.calendar_at) - Date.parse(b.calendar_at));
  for (const p of sorted) {
    const day = dayIn(p.calendar_at, timeZone);
    out.set(day, [...(out.get(day) ?? []), p]);
  }
  return out;
}
