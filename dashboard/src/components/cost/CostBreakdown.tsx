import type { CostItem } from "@/lib/api/types";
import { formatNumber, formatPercent, formatUsd, type Locale } from "@/lib/format";
import type { Dict } from "@/lib/i18n";
import { fmt } from "@/lib/i18n/fmt";

/** What one run or article cost: the total, its parts (text, images, other; under text, the share of its
 * input tokens read from the vendors' prompt caches, billed lower), the records no price covers and, for a
 * run, the average per article; the parts also as one split bar (a plain SVG). Safe in server
 * and client components (the live run page refreshes it). */
export function CostBreakdown({
  cost,
  t,
  lang,
  articles,
  compact = false,
  testId,
}: {
  cost: CostItem;
  t: Dict;
  lang: Locale;
  /** The run's articles: shows the average per article (undefined: not a run). */
  articles?: number;
  /** A narrow column: two figures a line at every width. */
  compact?: boolean;
  testId?: string;
}) {
  const c = t.costs;
  const usd = (v: string | number) => formatUsd(v, lang, true);
  const total = Number(cost.total_usd);
  const input = cost.input_tokens ?? 0;
  const cached =
    input > 0
      ? fmt(c.cachedShare, {
          share: formatPercent((cost.cache_read_tokens ?? 0) / input, lang),
          input: formatNumber(input, lang),
        })
      : null;
  const figures: Array<[string, string, string | null]> = [
    [c.total, usd(cost.total_usd), null],
    [c.llm, usd(cost.llm_usd), cached],
    [c.images, usd(cost.image_usd), null],
    [c.other, usd(cost.other_usd), null],
    [c.unpriced, formatNumber(cost.unpriced_records, lang), null],
  ];
  if (articles !== undefined) {
    figures.push([
      c.perArticle,
      articles > 0 ? usd(total / articles) : "—",
      articles > 0 ? fmt(c.perArticleOf, { n: formatNumber(articles, lang) }) : null,
    ]);
  }
  const parts: Array<[string, number, string]> = [
    [c.llm, Number(cost.llm_usd), "fill-blue-700"],
    [c.images, Number(cost.image_usd), "fill-teal-700"],
    [c.other, Number(cost.other_usd), "fill-slate-500"],
  ];
  const split = parts.filter(([, v]) => v > 0);
  const starts = split.map((_, i) => split.slice(0, i).reduce((sum, [, v]) => sum + (100 * v) / total, 0));
  return (
    <>
      <dl
        className={`mt-3 grid grid-cols-2 gap-3 ${compact ? "" : "sm:grid-cols-3 lg:grid-cols-6"}`}
        data-testid={testId}
      >
        {figures.map(([name, value, note]) => (
          <div key={name} className="min-w-0 rounded-md border border-slate-200 p-2">
            <dt className="text-xs text-slate-700">{name}</dt>
            <dd className="text-lg font-semibold break-words tabular-nums">{value}</dd>
            {note ? <dd className="text-xs text-slate-600">{note}</dd> : null}
          </div>
        ))}
      </dl>
      {total > 0 ? (
        <>
          <svg
            viewBox="0 0 100 4"
            preserveAspectRatio="none"
            className="mt-3 h-3 w-full rounded"
            role="img"
            aria-label={split.map(([name, v]) => fmt(c.chartOf, { name, cost: usd(v) })).join(", ")}
          >
            {split.map(([name, v, cls], i) => (
              <rect key={name} x={starts[i]} y={0} width={(100 * v) / total} height={4} className={cls} />
            ))}
          </svg>
          <ul aria-hidden="true" className="mt-1 flex flex-wrap gap-x-4 gap-y-1 text-xs text-slate-700">
            {split.map(([name, , cls]) => (
              <li key={name} className="flex items-center gap-1">
                <svg viewBox="0 0 10 10" className="h-2.5 w-2.5">
                  <rect width={10} height={10} rx={2} className={cls} />
                </svg>
                {name}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      <p className="mt-2 text-xs text-slate-600">{total > 0 ? c.basis : c.none}</p>
    </>
  );
}
