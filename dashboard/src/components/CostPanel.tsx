import { CostBars, type CostBar } from "@/components/cost/CostBars";
import { panel } from "@/components/ui";
import type { Budget, Costs } from "@/lib/api/types";
import { formatDay, formatNumber, formatUsd } from "@/lib/format";
import { fmt, type Dict, type Lang } from "@/lib/i18n";

const TOP_PIPELINES = 5;

/** This month's cost against the budget, a bar per UTC day and the most expensive pipelines (plain SVGs:
 * no chart library). */
export function CostPanel({
  t,
  lang,
  budget,
  days,
  pipelines,
  names,
}: {
  t: Dict;
  lang: Lang;
  budget: Budget;
  days: Costs;
  /** This month's cost per pipeline (GET /v1/costs?group_by=pipeline). */
  pipelines: Costs;
  /** Pipeline names by id. */
  names: Record<string, string>;
}) {
  const spent = Number(budget.spent_usd);
  const share = budget.share === null || budget.share === undefined ? null : Math.min(1, Number(budget.share));
  const values = days.items.map((d) => Number(d.total_usd));
  const max = Math.max(0, ...values);
  const width = 600;
  const height = 120;
  // one slot per day of the period, so that a bar's place says its date (a month's first day is no wide block)
  const DAY_MS = 86_400_000;
  const first = Date.parse(days.period_start);
  const slots = Math.max(1, Math.round((Date.parse(days.period_end) - first) / DAY_MS));
  const bar = width / slots;
  const slotOf = (day: string | null | undefined, i: number) =>
    day ? Math.min(slots - 1, Math.max(0, Math.floor((Date.parse(`${day}T00:00:00Z`) - first) / DAY_MS))) : i;
  const lastDay = new Date(first + (slots - 1) * DAY_MS).toISOString().slice(0, 10);
  const spending = pipelines.items.filter((p) => Number(p.total_usd) > 0);
  const top: CostBar[] = spending.slice(0, TOP_PIPELINES).map((p) => ({
    key: p.id ?? "none",
    label: p.id === null ? t.costs.noPipeline : (names[p.id] ?? t.costs.deletedPipeline),
    href: p.id !== null && names[p.id] ? `/pipelines/${p.id}` : undefined,
    usd: Number(p.total_usd),
  }));
  const rest = spending.slice(TOP_PIPELINES);
  const restUsd = rest.reduce((sum, p) => sum + Number(p.total_usd), 0);
  return (
    <section aria-labelledby="cost-h" className={`${panel} mt-4`}>
      <h2 id="cost-h">{t.overview.cost}</h2>
      {budget.status === "exhausted" ? (
        <p role="alert" className="mt-2 rounded bg-red-50 p-2 text-sm text-red-900">
          {t.overview.costExhausted}
        </p>
      ) : budget.status === "warning" ? (
        <p role="status" className="mt-2 rounded bg-amber-50 p-2 text-sm text-amber-900">
          {t.overview.costWarning}
        </p>
      ) : null}
      <dl className="mt-3 grid grid-cols-1 gap-4 sm:grid-cols-2">
        <div>
          <dt className="text-sm text-slate-600">{t.overview.costTotal}</dt>
          <dd className="text-lg font-semibold">{formatUsd(spent, lang, true)}</dd>
        </div>
        <div>
          <dt className="text-sm text-slate-600">{t.overview.costBudget}</dt>
          <dd className="text-lg font-semibold">
            {budget.monthly_budget_usd === null || budget.monthly_budget_usd === undefined
              ? t.overview.costNoBudget
              : formatUsd(budget.monthly_budget_usd, lang)}
            {share !== null ? (
              <div
                role="progressbar"
                aria-label={t.overview.costBudget}
                aria-valuemin={0}
                aria-valuemax={100}
                aria-valuenow={Math.round(share * 100)}
                aria-valuetext={fmt(t.overview.costOf, { share: `${formatNumber(share * 100, lang, 0)} %` })}
                className="mt-2 h-2 w-full overflow-hidden rounded bg-slate-200"
              >
                <div
                  className={`h-full ${budget.status === "exhausted" ? "bg-red-700" : budget.status === "warning" ? "bg-amber-600" : "bg-blue-700"}`}
                  style={{ width: `${Math.round(share * 100)}%` }}
                />
              </div>
            ) : null}
          </dd>
        </div>
      </dl>
      <div className="mt-4 grid gap-6 md:grid-cols-2">
        <div className="min-w-0">
          <h3 className="text-sm font-semibold">{t.overview.costByDay}</h3>
          {days.items.length === 0 || max === 0 ? (
            <p className="mt-2 text-sm text-slate-700">{t.overview.costNone}</p>
          ) : (
            <figure className="mt-2">
              <svg
                viewBox={`0 0 ${width} ${height}`}
                className="h-32 w-full max-w-full"
                role="img"
                aria-label={t.overview.costByDay}
                preserveAspectRatio="none"
              >
                <rect x={0} y={height - 1} width={width} height={1} className="fill-slate-300" />
                {days.items.map((d, i) => {
                  const h = max ? (Number(d.total_usd) / max) * (height - 4) : 0;
                  return (
                    <rect
                      key={d.day ?? i}
                      x={slotOf(d.day, i) * bar + 1}
                      y={height - h}
                      width={Math.max(1, bar - 2)}
                      height={h}
                      className="fill-blue-700"
                    >
                      <title>{`${formatDay(d.day, lang)}: ${formatUsd(d.total_usd, lang, true)}`}</title>
                    </rect>
                  );
                })}
              </svg>
              <div aria-hidden="true" className="mt-1 flex justify-between text-xs text-slate-600">
                <span>{formatDay(days.period_start.slice(0, 10), lang)}</span>
                <span>{formatDay(lastDay, lang)}</span>
              </div>
              <figcaption className="sr-only">
                <ul>
                  {days.items.map((d, i) => (
                    <li key={d.day ?? i}>{`${formatDay(d.day, lang)}: ${formatUsd(d.total_usd, lang, true)}`}</li>
                  ))}
                </ul>
              </figcaption>
            </figure>
          )}
        </div>
        <div className="min-w-0">
          <h3 className="text-sm font-semibold">
            {t.costs.byPipeline}
          </h3>
          {top.length === 0 ? (
            <p className="mt-2 text-sm text-slate-700">{t.costs.byPipelineNone}</p>
          ) : (
            <>
              <CostBars bars={top} label={t.costs.byPipeline} lang={lang} testId="cost-by-pipeline" />
              {rest.length > 0 ? (
                <p className="mt-1 px-1 text-sm text-slate-700">
                  {fmt(t.costs.others, { n: formatNumber(rest.length, lang), cost: formatUsd(restUsd, lang, true) })}
                </p>
              ) : null}
            </>
          )}
        </div>
      </div>
    </section>
  );
}
