/** The UI language: the `icop_lang` cookie, else the browser's Accept-Language (Korean or English). */
import { cookies, headers } from "next/headers";
import { en, type Dict } from "./en";
import { ko } from "./ko";

export type Lang = "en" | "ko";
export type { Dict };
export const LANG_COOKIE = "icop_lang";
const DICTS: Record<Lang, Dict> = { en, ko };

/** The first of ko/en in an Accept-Language header, by quality; English when neither is there. */
export function fromAcceptLanguage(header: string | null): Lang {
  if (!header) return "en";
  const prefs = header
    .split(",")
    .map((part, i) => {
      const [tag = "", ...params] = part.trim().split(";");
      const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
      return { tag: tag.toLowerCase(), q: q ? Number(q.slice(2)) || 0 : 1, i };
    })
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const p of prefs) {
    if (p.tag === "ko" || p.tag.startsWith("ko-")) return "ko";
    if (p.tag === "en" || p.tag.startsWith("en-")) return "en";
  }
  return "en";
}

export function isLang(v: unknown): v is Lang {
  return v === "en" || v === "ko";
}

export async function getLang(): Promise<Lang> {
  const chosen = (await cookies()).get(LANG_COOKIE)?.value;
  if (isLang(chosen)) return chosen;
  return fromAcceptLanguage((await headers()).get("accept-language"));
}

export async function getDict(): Promise<{ lang: Lang; t: Dict }> {
  const lang = await getLang();
  return { lang, t: DICTS[lang] };
}

export { fmt } from "./fmt";
