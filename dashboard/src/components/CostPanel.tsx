import { panel } from "@/components/ui";
import type { Budget, Costs } from "@/lib/api/types";
import { formatDay, formatNumber, formatUsd } from "@/lib/format";
import { fmt, type Dict, type Lang } from "@/lib/i18n";

/** This month's cost against the budget, and a bar per UTC day (a plain SVG: no chart library). */
export function CostPanel({
  t,
  lang,
  budget,
  days,
}: {
  t: Dict;
  lang: Lang;
  budget: Budget;
  days: Costs;
}) {
  const spent = Number(budget.spent_usd);
  const share = budget.share === null || budget.share === undefined ? null : Math.min(1, Number(budget.share));
  const values = days.items.map((d) => Number(d.total_usd));
  const max = Math.max(0, ...values);
  const width = 600;
  const height = 120;
  const bar = days.items.length ? width / days.items.length : width;
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
          <dd className="text-lg font-semibold">{formatUsd(spent, lang)}</dd>
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
      <h3 className="mt-4 text-sm font-semibold">{t.overview.costByDay}</h3>
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
            {days.items.map((d, i) => {
              const h = max ? (Number(d.total_usd) / max) * (height - 4) : 0;
              return (
                <rect key={d.day ?? i} x={i * bar + 1} y={height - h} width={Math.max(1, bar - 2)} height={h} className="fill-blue-700">
                  <title>{`${formatDay(d.day, lang)}: ${formatUsd(d.total_usd, lang)}`}</title>
                </rect>
              );
            })}
          </svg>
          <figcaption className="sr-only">
            <ul>
              {days.items.map((d, i) => (
                <li key={d.day ?? i}>{`${formatDay(d.day, lang)}: ${formatUsd(d.total_usd, lang)}`}</li>
              ))}
            </ul>
          </figcaption>
        </figure>
      )}
    </section>
  );
}
