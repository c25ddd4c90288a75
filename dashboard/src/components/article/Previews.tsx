import type { PostPreview } from "@/lib/api/types";
import { formatNumber, type Locale } from "@/lib/format";
import { fmt, type Dict } from "@/lib/i18n";

/** Each target's post as it will be (or was) published, with its length as the platform counts it. */
export function Previews({
  previews,
  t,
  lang,
  contentLang,
}: {
  previews: PostPreview[];
  t: Dict;
  lang: Locale;
  /** The article's language: the posts' text is marked with it. */
  contentLang?: string;
}) {
  if (previews.length === 0) return <p className="mt-2 text-sm text-slate-700">{t.articles.noPreviews}</p>;
  return (
    <ul className="mt-3 grid gap-3 md:grid-cols-2">
      {previews.map((pv) => {
        const over = !pv.within_limit;
        return (
          <li key={`${pv.platform}:${pv.account_id}`} className="min-w-0 rounded-md border border-slate-200 p-3">
            <h3 className="text-sm font-semibold">
              {t.platforms[pv.platform] ?? pv.platform} <span className="font-normal text-slate-600">· {pv.account_id}</span>
            </h3>
            <p lang={contentLang} className="mt-2 text-sm whitespace-pre-wrap [overflow-wrap:anywhere]">
              {pv.text}
            </p>
            <p className={`mt-2 text-xs ${over ? "font-semibold text-red-800" : "text-slate-700"}`}>
              {fmt(t.articles.characters, { length: formatNumber(pv.length, lang), limit: formatNumber(pv.limit, lang) })}
              {over ? ` · ${t.articles.overLimit}` : ""}
            </p>
            <p className="text-xs text-slate-600">{pv.counted_as === "weighted" ? t.articles.countedWeighted : t.articles.countedCharacters}</p>
          </li>
        );
      })}
    </ul>
  );
}
