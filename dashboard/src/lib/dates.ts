/** Calendar days in the tenant's time zone as instants (for the API's date filters). Safe anywhere. */

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** How far `tz`'s wall clock is ahead of UTC at `instant` (ms). */
function offsetMs(instant: number, tz: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: tz,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(instant));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second")) - instant;
}

/** `YYYY-MM-DD` if `v` is one (a real day), else undefined. */
export function asDay(v: string | undefined): string | undefined {
  const m = v ? DAY.exec(v) : null;
  if (!m) return undefined;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === v ? v : undefined;
}

/** The instant `day` starts in `tz` (ISO 8601); `plusDays` moves to a later day (1: the day after). */
export function dayStartIn(day: string, tz: string, plusDays = 0): string | undefined {
  const m = DAY.exec(day);
  if (!m) return undefined;
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + plusDays);
  try {
    // twice: the offset at the guessed instant can differ from the one at the answer (a DST change)
    const first = wall - offsetMs(wall, tz);
    return new Date(wall - offsetMs(first, tz)).toISOString();
  } catch {
    return new Date(wall).toISOString(); // an unknown zone: UTC
  }
}
