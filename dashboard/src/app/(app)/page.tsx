import Link from "next/link";
import { PageHeader } from "@/components/PageHeader";
import { RunsTable } from "@/components/RunsTable";
import { panel } from "@/components/ui";
import { getTenant } from "@/lib/api/account";
import { CostPanel } from "@/components/CostPanel";
import { costsByPipeline } from "@/lib/api/costs";
import { costsByDay, getBudget, getUsage, listQuotas } from "@/lib/api/overview";
import { listPipelines } from "@/lib/api/pipelines";
import { recentRuns } from "@/lib/api/recent";
import { formatDate, formatNumber, formatUsd } from "@/lib/format";
import { fmt, getDict } from "@/lib/i18n";
import { planName } from "@/lib/plan-limits";
import { ScrollTable } from "@/components/ScrollTable";
import { Truncate } from "@/components/Truncate";

export const dynamic = "force-dynamic";

export default async function OverviewPage() {
  const listed = listPipelines(); // the recent runs' and the cost chart's names
  const [{ t, lang }, tenant, usage, quotas, pipelines, runs, budget, days, byPipeline] = await Promise.all([
    getDict(),
    getTenant(),
    getUsage(),
    listQuotas(),
    listed,
    listed.then((all) => recentRuns(10, all)),
    getBudget(),
    costsByDay(),
    costsByPipeline(),
  ]);
  const names = Object.fromEntries(pipelines.map((p) => [p.id, p.name]));
  const tz = tenant.timezone;
  const pct = usage.articles_limit ? Math.min(100, Math.round((100 * usage.articles_used) / usage.articles_limit)) : 0;
  return (
    <>
      <PageHeader title={t.overview.title} />
      <div className="grid gap-4 md:grid-cols-3">
        <section aria-labelledby="usage-h" className={`${panel} md:col-span-2`}>
          <h2 id="usage-h">{t.overview.usage}</h2>
          <dl className="mt-4 grid grid-cols-1 gap-4 sm:grid-cols-2">
            <div>
              <dt className="text-sm text-slate-600">{t.overview.plan}</dt>
              <dd className="text-lg font-semibold">{planName(usage.plan, t)}</dd>
            </div>
            <div>
              <dt className="text-sm text-slate-600">{t.overview.period}</dt>
              <dd>
                {formatDate(usage.period_start, tz, lang)} – {formatDate(usage.period_end, tz, lang)}
              </dd>
            </div>
            <div>
              <dt className="text-sm text-slate-600">{t.overview.articles}</dt>
              <dd className="text-lg font-semibold">
                {formatNumber(usage.articles_used, lang)} /{" "}
                {usage.articles_limit === null ? t.overview.unlimited : formatNumber(usage.articles_limit, lang)}
                {usage.articles_limit ? (
                  // inside the <dd>: a <dl> may hold only <dt>/<dd> groups (axe: definition-list)
                  <div
                    role="progressbar"
                    aria-label={t.overview.articles}
                    aria-valuemin={0}
                    aria-valuemax={100}
                    aria-valuenow={pct}
                    className="mt-2 h-2 w-full overflow-hidden rounded bg-slate-200"
                  >
                    <div className="h-full bg-blue-700" style={{ width: `${pct}%` }} />
                  </div>
                ) : null}
              </dd>
            </div>
            <div>
              <dt className="text-sm text-slate-600">{t.overview.activeRuns}</dt>
              <dd className="text-lg font-semibold">
                {formatNumber(usage.active_runs, lang)} / {formatNumber(usage.active_runs_limit, lang)}
              </dd>
            </div>
            <div>
              <dt className="text-sm text-slate-600">{t.overview.xSpend}</dt>
              <dd className="text-lg font-semibold">
                {formatUsd(usage.x_cost_usd_month, lang)}{" "}
                {usage.x_budget_usd_month ? (
                  <span className="text-sm font-normal text-slate-700">
                    {fmt(t.overview.xBudget, { budget: formatUsd(usage.x_budget_usd_month, lang) })}
                  </span>
                ) : null}
              </dd>
            </div>
            <div>
              <dt className="text-sm text-slate-600">{t.overview.pipelines}</dt>
              <dd className="text-lg font-semibold">
                {formatNumber(usage.pipelines, lang)} / {formatNumber(usage.pipelines_limit, lang)}
              </dd>
            </div>
            <div>
              <dt className="text-sm text-slate-600">{t.overview.accounts}</dt>
              <dd className="text-lg font-semibold">
                {formatNumber(usage.connected_accounts, lang)} / {formatNumber(usage.connected_accounts_limit, lang)}
              </dd>
            </div>
          </dl>
        </section>
        <section aria-labelledby="start-h" className={panel}>
          <h2 id="start-h">{t.overview.getStarted}</h2>
          <ol className="mt-3 list-decimal space-y-2 pl-5 text-sm">
            <li>
              <Link href="/accounts">{t.overview.stepConnect}</Link>
            </li>
            <li>
              <Link href="/pipelines/new">{t.overview.stepPipeline}</Link>
            </li>
            <li>
              <Link href="/pipelines">{t.overview.stepRun}</Link>
            </li>
          </ol>
        </section>
      </div>

      <CostPanel t={t} lang={lang} budget={budget} days={days} pipelines={byPipeline} names={names} />

      <section aria-labelledby="quotas-h" className={`${panel} mt-4`}>
        <h2 id="quotas-h">{t.overview.quotas}</h2>
        {quotas.length === 0 ? (
          <p className="mt-2 text-sm text-slate-700">{t.overview.noQuotas}</p>
        ) : (
          <ScrollTable label={t.common.tableLabel.replace("{name}", t.overview.quotas)} className="mt-3" cards>
            <table className="cards">
              <thead>
                <tr>
                  <th scope="col">{t.common.platform}</th>
                  <th scope="col">{t.common.account}</th>
                  <th scope="col">{t.overview.quotaUsed}</th>
                  <th scope="col">{t.overview.quotaWindow}</th>
                  <th scope="col">{t.overview.quotaResets}</th>
                </tr>
              </thead>
              <tbody>
                {quotas.map((q) => (
                  <tr key={`${q.platform}:${q.account_id}`}>
                    <td data-label={t.common.platform}>
                      {t.platforms[q.platform as keyof typeof t.platforms] ?? q.platform}
                    </td>
                    <td data-label={t.common.account}>
                      <Truncate text={q.account_id} className="max-w-40 font-mono text-xs" />
                    </td>
                    <td data-label={t.overview.quotaUsed}>
                      {formatNumber(q.used, lang)} / {q.limit === null ? t.overview.unlimited : formatNumber(q.limit, lang)}
                    </td>
                    <td data-label={t.overview.quotaWindow}>{fmt(t.overview.hours, { n: q.window_hours })}</td>
                    <td className="whitespace-nowrap" data-label={t.overview.quotaResets}>
                      {formatDate(q.resets_at, tz, lang)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollTable>
        )}
      </section>

      <section aria-labelledby="runs-h" className={`${panel} mt-4`}>
        <h2 id="runs-h">{t.overview.recentRuns}</h2>
        {runs.length === 0 ? (
          <p className="mt-2 text-sm text-slate-700">{t.overview.noRuns}</p>
        ) : (
          <div className="mt-3">
            <RunsTable runs={runs} t={t} lang={lang} tz={tz} />
          </div>
        )}
      </section>
    </>
  );
}
