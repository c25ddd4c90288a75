import type { SummaryItem } from "@/lib/api/types";
import { addDays } from "@/lib/calendar";
import { formatDay, formatNumber, formatPercent, type Locale } from "@/lib/format";
import { fmt, type Dict } from "@/lib/i18n";

const W = 720;
const H = 160;

/**
 * Engagement per day of publishing as bars (plain SVG: no chart library), every day of the window drawn,
 * with the figures in a table that only screen readers see (and tests read).
 */
export function DayBars({
  items,
  since,
  until,
  t,
  lang,
}: {
  items: SummaryItem[];
  since: string;
  until: string;
  t: Dict;
  lang: Locale;
}) {
  const a = t.analytics;
  const byDay = new Map(items.map((i) => [i.key ?? "", i]));
  const days: string[] = [];
  for (let d = since; d <= until && days.length < 400; d = addDays(d, 1)) days.push(d);
  for (const k of byDay.keys()) if (k && !days.includes(k)) days.push(k);
  days.sort();
  const max = Math.max(0, ...items.map((i) => i.engagement));
  const slot = W / Math.max(1, days.length);
  const bar = Math.max(1, slot * 0.8);
  const label = fmt(a.chartLabel, { n: formatNumber(days.length, lang), max: formatNumber(max, lang) });
  return (
    <figure className="mt-3" data-testid="engagement-by-day">
      <div aria-hidden="true" className="text-xs text-slate-600 tabular-nums">
        {formatNumber(max, lang)}
      </div>
      <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" className="h-40 w-full max-w-full" role="img" aria-label={label}>
        <line x1={0} y1={H - 0.5} x2={W} y2={H - 0.5} className="stroke-slate-400" strokeWidth={1} />
        {days.map((d, i) => {
          const it = byDay.get(d);
          const h = it && max ? (it.engagement / max) * (H - 8) : 0;
          return h ? (
            <rect key={d} x={i * slot + (slot - bar) / 2} y={H - h} width={bar} height={h} className="fill-blue-700">
              <title>{`${formatDay(d, lang)}: ${formatNumber(it?.engagement, lang)}`}</title>
            </rect>
          ) : null;
        })}
      </svg>
      <div aria-hidden="true" className="mt-1 flex justify-between text-xs text-slate-600">
        <span>{formatDay(days[0], lang)}</span>
        <span>{formatDay(days[days.length - 1], lang)}</span>
      </div>
      <figcaption className="mt-1 text-xs text-slate-600">{a.overTimeHint}</figcaption>
      {/* a table is as wide as its content whatever its width: the box around it is what hides it */}
      <div className="sr-only">
        <table>
          <caption>{fmt(a.values, { name: a.overTime })}</caption>
          <thead>
            <tr>
              <th scope="col">{a.day}</th>
              <th scope="col">{a.posts}</th>
              <th scope="col">{a.impressions}</th>
              <th scope="col">{a.engagement}</th>
              <th scope="col">{a.rate}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((i) => (
              <tr key={i.key ?? ""} data-day={i.key ?? ""}>
                <th scope="row">{formatDay(i.key, lang)}</th>
                <td>{formatNumber(i.posts, lang)}</td>
                <td>{formatNumber(i.impressions, lang)}</td>
                <td data-value={i.engagement}>{formatNumber(i.engagement, lang)}</td>
                <td>{formatPercent(i.engagement_rate, lang)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}
