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

export function formatNumber(n: number | string | null | undefined, lang: Locale, digits = 0): string {
  if (n === null || n === undefined || n === "") return "—";
  const v = typeof n === "number" ? n : Number(n);
  if (Number.isNaN(v)) return String(n);
  return new Intl.NumberFormat(LOCALES[lang], { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(v);
}

export function formatUsd(n: number | string | null | undefined, lang: Locale): string {
  return `$${formatNumber(n ?? 0, lang, 2)}`;
}
