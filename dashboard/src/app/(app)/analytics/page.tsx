import Link from "next/link";
import { DayBars } from "@/components/analytics/DayBars";
import { GroupTable } from "@/components/analytics/GroupTable";
import { PageHeader } from "@/components/PageHeader";
import { PlatformSelect } from "@/components/PlatformSelect";
import { ScrollTable } from "@/components/ScrollTable";
import { btn, btnSecondary, hint, input, label, panel } from "@/components/ui";
import { getTenant } from "@/lib/api/account";
import { analyticsFilters, summary, topPosts } from "@/lib/api/analytics";
import type { SummaryItem } from "@/lib/api/types";
import { dayIn } from "@/lib/calendar";
import { formatDate, formatDay, formatNumber, formatPercent } from "@/lib/format";
import { fmt, getDict } from "@/lib/i18n";

export const dynamic = "force-dynamic";

/** Sub-topics by engagement rate (those without views last), then by engagement. */
function bestSubtopics(items: SummaryItem[], n = 10): SummaryItem[] {
  return [...items]
    .sort((a, b) => (b.engagement_rate ?? -1) - (a.engagement_rate ?? -1) || b.engagement - a.engagement)
    .slice(0, n);
}

export default async function AnalyticsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | undefined>>;
}) {
  const sp = await searchParams;
  const [{ t, lang }, tenant] = await Promise.all([getDict(), getTenant()]);
  const tz = tenant.timezone;
  const a = t.analytics;
  const f = analyticsFilters(sp, dayIn(new Date().toISOString(), tz));
  const [byDay, byPlatform, byPipeline, bySubtopic, top] = await Promise.all([
    summary(f, tz, "day"),
    summary(f, tz, "platform"),
    summary(f, tz, "pipeline"),
    summary(f, tz, "subtopic"),
    topPosts(f, tz),
  ]);
  const totals = byPlatform.items.reduce(
    (s, i) => ({ posts: s.posts + i.posts, impressions: s.impressions + i.impressions, engagement: s.engagement + i.engagement }),
    { posts: 0, impressions: 0, engagement: 0 },
  );
  const rate = totals.impressions ? totals.engagement / totals.impressions : null;
  const q = new URLSearchParams({ since: f.since, until: f.until });
  if (f.platform) q.set("platform", f.platform);
  const filtered = Boolean(sp.since || sp.until || f.platform);
  const select = `${input} mt-1`;
  const nothing = totals.posts === 0;

  return (
    <>
      <PageHeader title={a.title}>
        <a href={`/api/analytics/export?${q}`} className={btnSecondary} download aria-describedby="export-hint">
          {a.export}
        </a>
      </PageHeader>
      <p id="export-hint" className={`${hint} -mt-4 mb-4`}>
        {a.exportHint}
      </p>

      <form method="get" action="/analytics" role="search" aria-label={a.filters} className={`${panel} mb-4`}>
        <div className="grid grid-cols-2 gap-3 sm:grid-cols-4 sm:items-end">
          <div>
            <label htmlFor="an-since" className={label}>
              {a.since}
            </label>
            <input id="an-since" name="since" type="date" defaultValue={f.since} className={select} />
          </div>
          <div>
            <label htmlFor="an-until" className={label}>
              {a.until}
            </label>
            <input id="an-until" name="until" type="date" defaultValue={f.until} className={select} />
          </div>
          <div className="col-span-2 sm:col-span-1">
            <label htmlFor="an-platform" className={label}>
              {t.common.platform}
            </label>
            <PlatformSelect id="an-platform" value={f.platform} any={a.anyPlatform} t={t} className={select} />
          </div>
          <div className="col-span-2 flex flex-wrap gap-2 sm:col-span-1">
            <button type="submit" className={btn}>
              {a.apply}
            </button>
            {filtered ? (
              <Link href="/analytics" className={btnSecondary}>
                {a.clear}
              </Link>
            ) : null}
          </div>
        </div>
      </form>

      <section aria-labelledby="totals-h" className={panel}>
        <h2 id="totals-h">{a.totals}</h2>
        <p className="mt-1 text-sm text-slate-700">
          {fmt(a.period, { from: formatDay(f.since, lang), to: formatDay(f.until, lang) })}
        </p>
        <dl className="mt-3 grid grid-cols-2 gap-4 sm:grid-cols-4" data-testid="analytics-totals">
          {(
            [
              [a.posts, formatNumber(totals.posts, lang)],
              [a.impressions, formatNumber(totals.impressions, lang)],
              [a.engagement, formatNumber(totals.engagement, lang)],
              [a.rate, formatPercent(rate, lang)],
            ] as const
          ).map(([name, value]) => (
            <div key={name}>
              <dt className="text-sm text-slate-600">{name}</dt>
              <dd className="text-lg font-semibold tabular-nums">{value}</dd>
            </div>
          ))}
        </dl>
        {nothing ? <p className="mt-3 text-sm text-slate-700">{a.noData}</p> : null}
      </section>

      {nothing ? null : (
        <>
          <section aria-labelledby="over-time-h" className={`${panel} mt-4`}>
            <h2 id="over-time-h">{a.overTime}</h2>
            <DayBars items={byDay.items} since={f.since} until={f.until} t={t} lang={lang} />
          </section>

          <div className="mt-4 grid grid-cols-1 gap-4">
            <section aria-labelledby="by-platform-h" className={`${panel} min-w-0`}>
              <h2 id="by-platform-h">{a.byPlatform}</h2>
              <GroupTable
                name={a.byPlatform}
                column={t.common.platform}
                items={byPlatform.items}
                labelOf={(i) => (i.key && t.platforms[i.key as keyof typeof t.platforms]) || (i.key ?? "")}
                t={t}
                lang={lang}
                testId="by-platform"
              />
            </section>
            <section aria-labelledby="by-pipeline-h" className={`${panel} min-w-0`}>
              <h2 id="by-pipeline-h">{a.byPipeline}</h2>
              <GroupTable
                name={a.byPipeline}
                column={a.pipeline}
                items={byPipeline.items}
                labelOf={(i) => i.label || (i.key ? i.key.slice(0, 8) : a.noPipeline)}
                t={t}
                lang={lang}
                testId="by-pipeline"
              />
            </section>
          </div>

          <section aria-labelledby="by-subtopic-h" className={`${panel} mt-4`}>
            <h2 id="by-subtopic-h">{a.bySubtopic}</h2>
            <p className={hint}>{a.bySubtopicHint}</p>
            <GroupTable
              name={a.bySubtopic}
              column={a.subtopic}
              items={bestSubtopics(bySubtopic.items)}
              labelOf={(i) => i.label || (i.key ? i.key.slice(0, 8) : a.noSubtopic)}
              t={t}
              lang={lang}
              testId="by-subtopic"
            />
          </section>

          <section aria-labelledby="top-h" className={`${panel} mt-4`}>
            <h2 id="top-h">{a.topPosts}</h2>
            <ScrollTable label={t.common.tableLabel.replace("{name}", a.topPosts)} cards>
              <table data-testid="top-posts" className="cards w-full text-sm">
                <thead>
                  <tr>
                    <th scope="col">{a.post}</th>
                    <th scope="col">{t.common.platform}</th>
                    <th scope="col">{a.published}</th>
                    <th scope="col" className="text-right">
                      {a.impressions}
                    </th>
                    <th scope="col" className="text-right">
                      {a.engagement}
                    </th>
                    <th scope="col" className="text-right">
                      {a.rate}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {top.items.map((p) => {
                    const platform = t.platforms[p.platform] ?? p.platform;
                    const link = p.permalink && /^https?:\/\//.test(p.permalink) ? p.permalink : null;
                    return (
                      <tr key={p.post_id} data-post={p.post_id}>
                        <td data-label={a.post} className="min-w-48">
                          <Link href={`/articles/${p.article_id}`} className="font-medium">
                            {p.article_title || a.untitled}
                          </Link>
                        </td>
                        <td data-label={t.common.platform}>
                          {link ? (
                            <a href={link} target="_blank" rel="noopener noreferrer">
                              {platform}
                              <span className="sr-only"> {t.postsPage.newTab}</span>
                              <span aria-hidden="true"> ↗</span>
                            </a>
                          ) : (
                            platform
                          )}
                        </td>
                        <td data-label={a.published} className="text-xs whitespace-nowrap">
                          {formatDate(p.published_at, tz, lang)}
                        </td>
                        <td data-label={a.impressions} className="text-right tabular-nums">
                          {formatNumber(p.impressions, lang)}
                        </td>
                        <td data-label={a.engagement} className="text-right tabular-nums">
                          {formatNumber(p.engagement, lang)}
                        </td>
                        <td data-label={a.rate} className="text-right tabular-nums">
                          {formatPercent(p.engagement_rate, lang)}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </ScrollTable>
          </section>
        </>
      )}
    </>
  );
}
