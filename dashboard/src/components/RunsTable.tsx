import Link from "next/link";
import type { RunWithPipeline } from "@/lib/api/recent";
import { formatDate, formatNumber, type Locale } from "@/lib/format";
import type { Dict } from "@/lib/i18n";
import { tallyRows } from "@/lib/run-truth";
import { StatusBadge } from "./StatusBadge";
import { ScrollTable } from "./ScrollTable";

const TERMINAL = new Set(["completed", "failed", "cancelled"]);

/** Runs with their status, kind, start time and row progress; each links to its live page. */
export function RunsTable({
  runs,
  t,
  lang,
  tz,
  showPipeline = true,
}: {
  runs: RunWithPipeline[];
  t: Dict;
  lang: Locale;
  tz: string;
  showPipeline?: boolean;
}) {
  return (
    <ScrollTable label={t.common.tableLabel.replace("{name}", t.overview.recentRuns)} cards>
      <table className="cards">
        <thead>
          <tr>
            {showPipeline ? <th scope="col">{t.overview.pipeline}</th> : null}
            <th scope="col">{t.common.status}</th>
            <th scope="col">{t.runs.kind}</th>
            <th scope="col">{t.runs.started}</th>
            <th scope="col">{t.runs.rows}</th>
            <th scope="col">
              <span className="sr-only">{t.common.actions}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {runs.map(({ run, pipeline }) => {
            // finished of the valid rows, as the run page counts them (invalid rows are skipped, not done)
            const rows = tallyRows(run, TERMINAL.has(run.status));
            return (
              <tr key={run.id}>
                {showPipeline ? (
                  <td data-label={t.overview.pipeline}>
                    <Link href={`/pipelines/${pipeline.id}`}>{pipeline.name}</Link>
                  </td>
                ) : null}
                <td data-label={t.common.status}>
                  <StatusBadge status={run.status} labels={t.status} />
                </td>
                <td data-label={t.runs.kind}>{t.status[run.kind] ?? run.kind}</td>
                <td className="whitespace-nowrap" data-label={t.runs.started}>
                  {formatDate(run.started_at ?? run.created_at, tz, lang)}
                </td>
                <td className="whitespace-nowrap" data-label={t.runs.rows}>
                  {formatNumber(rows.finished, lang)} / {formatNumber(rows.total, lang)}
                  {rows.failed ? (
                    <span className="ml-2 text-xs text-red-800">
                      {t.runTruth.barFailed} {formatNumber(rows.failed, lang)}
                    </span>
                  ) : null}
                </td>
                <td className="whitespace-nowrap">
                  <Link href={`/runs/${run.id}`}>{t.overview.openRun}</Link>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </ScrollTable>
  );
}
