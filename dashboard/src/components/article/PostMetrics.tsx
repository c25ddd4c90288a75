import { Reason } from "@/components/Reason";
import type { MetricsPoint, PostMetricsSeries } from "@/lib/api/types";
import { formatDate, formatNumber, formatPercent, type Locale } from "@/lib/format";
import { fmt, type Dict } from "@/lib/i18n";
import { metricsReason } from "@/lib/problems";

const W = 240;
const H = 64;

/** A post's age at a collection in words: hours under two days, then days. */
export function ageText(seconds: number, t: Dict): string {
  const hours = Math.round(seconds / 3600);
  return hours < 48 ? fmt(t.metrics.hours, { n: hours }) : fmt(t.metrics.days, { n: Math.round(hours / 24) });
}

/** Engagement at each collection as a line (plain SVG), its points named in the label. */
function Series({ points, name, t, lang }: { points: MetricsPoint[]; name: string; t: Dict; lang: Locale }) {
  const max = Math.max(1, ...points.map((p) => p.engagement));
  const x = (i: number) => (points.length > 1 ? 6 + (i * (W - 12)) / (points.length - 1) : W / 2);
  const y = (v: number) => H - 6 - (v / max) * (H - 12);
  const said = points.map((p) => `${ageText(p.age_s, t)} ${formatNumber(p.engagement, lang)}`).join(", ");
  return (
    <svg viewBox={`0 0 ${W} ${H}`} className="h-16 w-60 max-w-full" role="img" aria-label={fmt(t.metrics.chart, { platform: name, points: said })}>
      <line x1={0} y1={H - 0.5} x2={W} y2={H - 0.5} className="stroke-slate-300" strokeWidth={1} />
      {points.length > 1 ? (
        <polyline
          points={points.map((p, i) => `${x(i)},${y(p.engagement)}`).join(" ")}
          className="fill-none stroke-blue-700"
          strokeWidth={2}
        />
      ) : null}
      {points.map((p, i) => (
        <circle key={p.collected_at} cx={x(i)} cy={y(p.engagement)} r={3} className="fill-blue-700" />
      ))}
    </svg>
  );
}

/**
 * Each published post's latest figures, its collection state (and why it stopped or waits, in the UI's
 * language), and its engagement by age as a small chart with the figures in a table.
 */
export function PostMetrics({ series, t, lang, tz }: { series: PostMetricsSeries[]; t: Dict; lang: Locale; tz: string }) {
  const m = t.metrics;
  return (
    <ul className="mt-3 grid grid-cols-1 gap-4 md:grid-cols-2" data-testid="post-metrics">
      {series.map(({ post, points }) => {
        const platform = t.platforms[post.platform] ?? post.platform;
        const reason = metricsReason(post, t);
        return (
          <li key={post.post_id} data-post={post.post_id} className="min-w-0 rounded-md border border-slate-200 p-3">
            <h3 className="text-sm font-semibold">{fmt(m.post, { platform, account: post.account_id })}</h3>
            <dl className="mt-2 grid grid-cols-3 gap-2 text-sm">
              <div>
                <dt className="text-xs text-slate-600">{m.views}</dt>
                <dd className="font-semibold tabular-nums">{formatNumber(post.impressions, lang)}</dd>
              </div>
              <div>
                <dt className="text-xs text-slate-600">{m.engagement}</dt>
                <dd className="font-semibold tabular-nums">{formatNumber(post.engagement, lang)}</dd>
              </div>
              <div>
                <dt className="text-xs text-slate-600">{m.rate}</dt>
                <dd className="font-semibold tabular-nums">{formatPercent(post.engagement_rate, lang)}</dd>
              </div>
            </dl>
            <p className="mt-2 text-xs text-slate-700">
              {m.state}: {m.states[post.metrics_state]}
              {post.metrics_collected_at ? ` · ${fmt(m.lastCollected, { when: formatDate(post.metrics_collected_at, tz, lang) })}` : ""}
              {post.metrics_state === "collecting" && post.metrics_next_at
                ? ` · ${fmt(m.nextAt, { when: formatDate(post.metrics_next_at, tz, lang) })}`
                : ""}
            </p>
            {reason ? (
              <div className="mt-2 rounded bg-amber-50 p-2 text-xs text-amber-950" data-testid="metrics-reason">
                <Reason said={reason} t={t} />
              </div>
            ) : null}
            {points.length === 0 ? (
              <p className="mt-2 text-xs text-slate-700">{m.none}</p>
            ) : (
              <figure className="mt-2">
                <Series points={points} name={platform} t={t} lang={lang} />
                {/* a table is as wide as its content whatever its width: the box around it is what hides it */}
                <div className="sr-only">
                  <table>
                    <caption>{fmt(m.series, { platform })}</caption>
                    <thead>
                      <tr>
                        <th scope="col">{m.age}</th>
                        <th scope="col">{m.views}</th>
                        <th scope="col">{m.engagement}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {points.map((p) => (
                        <tr key={p.collected_at}>
                          <th scope="row">{ageText(p.age_s, t)}</th>
                          <td>{formatNumber(p.impressions, lang)}</td>
                          <td>{formatNumber(p.engagement, lang)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </figure>
            )}
          </li>
        );
      })}
    </ul>
  );
}
