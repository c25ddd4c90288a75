/**
 * Publish times typed in the tenant's time zone (a `datetime-local` value, `YYYY-MM-DDTHH:mm`) and the
 * UTC instants the API takes and returns. Safe in server and client components.
 */

const WALL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

/** The zone's offset from UTC (ms) at `at`; UTC for a zone the runtime does not know. */
function offsetMs(at: Date, timeZone: string): number {
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    }).formatToParts(at);
  } catch {
    return 0;
  }
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const wall = Date.UTC(n("year"), n("month") - 1, n("day"), n("hour"), n("minute"), n("second"));
  return wall - (at.getTime() - at.getMilliseconds());
}

/** A wall-clock time in `timeZone` as a UTC instant; null when `local` is not a date and time. */
export function zonedToUtc(local: string, timeZone: string): Date | null {
  const m = WALL.exec(local.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m;
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0));
  // twice: the offset at the first guess can differ from the offset at the answer around a DST change
  const first = wall - offsetMs(new Date(wall), timeZone);
  const utc = wall - offsetMs(new Date(first), timeZone);
  return Number.isNaN(utc) ? null : new Date(utc);
}

/** A UTC instant as a `datetime-local` value in `timeZone` (to prefill an input). */
export function utcToZoned(iso: string, timeZone: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return "";
  const wall = new Date(at.getTime() + offsetMs(at, timeZone));
  return wall.toISOString().slice(0, 16);
}
