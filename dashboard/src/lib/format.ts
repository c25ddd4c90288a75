/** Dates in the tenant's time zone, numbers in the UI language. Safe in server and client components. */
export type Locale = "en" | "ko";

const LOCALES: Record<Locale, string> = { en: "en-GB", ko: "ko-KR" };

export function formatDate(iso: string | null | undefined, timeZone: string, lang: Locale): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  try {
    return new Intl.DateTimeFormat(LOCALES[lang], { dateStyle: "medium", timeStyle: "short", hourCycle: "h23", timeZone }).format(d);
  } catch {
    return new Intl.DateTimeFormat(LOCALES[lang], { dateStyle: "medium", timeStyle: "short", hourCycle: "h23", timeZone: "UTC" }).format(d);
  }
}

/** A calendar day (``YYYY-MM-DD``, as the API's daily figures carry it), without a time. */
export function formatDay(day: string | null | undefined, lang: Locale): string {
  if (!day) return "—";
  const d = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return day;
  return new Intl.DateTimeFormat(LOCALES[lang], { dateStyle: "medium", timeZone: "UTC" }).format(d);
}

export function formatNumber(n: number | string | null | undefined, lang: Locale, digits = 0): string {
  if (n === null || n === undefined || n === "") return "—";
  const v = typeof n === "number" ? n : Number(n);
  if (Number.isNaN(v)) return String(n);
  return new Intl.NumberFormat(LOCALES[lang], { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(v);
}

/** Dollars with cents; `precise`: amounts under a dollar keep up to four decimals (a short run's LLM calls
 * cost a fraction of a cent, which cents alone would show as $0.00). */
export function formatUsd(n: number | string | null | undefined, lang: Locale, precise = false): string {
  const v = Number(n ?? 0);
  if (!precise || Number.isNaN(v) || Math.abs(v) >= 1) return `$${formatNumber(n ?? 0, lang, 2)}`;
  return `$${new Intl.NumberFormat(LOCALES[lang], { minimumFractionDigits: 2, maximumFractionDigits: 4 }).format(v)}`;
}

/** A month (`YYYY-MM`) by name, e.g. "March 2031" or "2031년 3월". */
export function formatMonth(month: string, lang: Locale): string {
  const d = new Date(`${month}-01T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return month;
  return new Intl.DateTimeFormat(LOCALES[lang], { year: "numeric", month: "long", timeZone: "UTC" }).format(d);
}

/** A calendar day with its weekday, e.g. "Mon 10 Mar 2031" (`short`) or "Monday 10 March 2031". */
export function formatWeekDay(day: string, lang: Locale, style: "short" | "long" = "long"): string {
  const d = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return day;
  return new Intl.DateTimeFormat(LOCALES[lang], {
    weekday: style,
    day: "numeric",
    month: style,
    year: "numeric",
    timeZone: "UTC",
  }).format(d);
}

/** A weekday's short name (Mon, 월) for a day. */
export function formatWeekdayName(day: string, lang: Locale): string {
  const d = new Date(`${day}T00:00:00Z`);
  return new Intl.DateTimeFormat(LOCALES[lang], { weekday: "short", timeZone: "UTC" }).format(d);
}

/** A share (0.123) as a percentage ("12.3 %"). */
export function formatPercent(share: number | null | undefined, lang: Locale, digits = 1): string {
  if (share === null || share === undefined || Number.isNaN(share)) return "—";
  return `${formatNumber(share * 100, lang, digits)} %`;
}
