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
