import { ScrollTable } from "@/components/ScrollTable";
import type { SummaryItem } from "@/lib/api/types";
import { formatNumber, formatPercent, type Locale } from "@/lib/format";
import type { Dict } from "@/lib/i18n";

/**
 * Summed figures per group (platform, pipeline, sub-topic) as a table whose engagement cell carries a bar
 * scaled to the largest group: a chart that is a table, so every value is there to read.
 */
export function GroupTable({
  name,
  column,
  items,
  labelOf,
  t,
  lang,
  testId,
}: {
  name: string;
  column: string;
  items: SummaryItem[];
  labelOf: (item: SummaryItem) => string;
  t: Dict;
  lang: Locale;
  testId: string;
}) {
  const a = t.analytics;
  const max = Math.max(0, ...items.map((i) => i.engagement));
  return (
    <ScrollTable label={t.common.tableLabel.replace("{name}", name)}>
      <table data-testid={testId} className="w-full text-sm">
        <thead>
          <tr>
            <th scope="col">{column}</th>
            <th scope="col" className="text-right">
              {a.posts}
            </th>
            <th scope="col" className="text-right">
              {a.impressions}
            </th>
            <th scope="col" className="min-w-36">
              {a.engagement}
            </th>
            <th scope="col" className="text-right">
              {a.rate}
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((i) => (
            <tr key={i.key ?? "none"} data-key={i.key ?? ""}>
              <th scope="row" className="max-w-64 font-normal break-words">
                {labelOf(i)}
              </th>
              <td className="text-right tabular-nums">{formatNumber(i.posts, lang)}</td>
              <td className="text-right tabular-nums">{formatNumber(i.impressions, lang)}</td>
              <td>
                <div className="flex items-center gap-2">
                  <span aria-hidden="true" className="block h-2.5 w-24 shrink-0 rounded bg-slate-100">
                    <span
                      className="block h-full rounded bg-blue-700"
                      style={{ width: `${max && i.engagement ? Math.max(2, (i.engagement / max) * 100) : 0}%` }}
                    />
                  </span>
                  <span className="tabular-nums">{formatNumber(i.engagement, lang)}</span>
                </div>
              </td>
              <td className="text-right tabular-nums">{formatPercent(i.engagement_rate, lang)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollTable>
  );
}
