import Link from "next/link";
import type { RunWithPipeline } from "@/lib/api/recent";
import { formatDate, formatNumber, type Locale } from "@/lib/format";
import type { Dict } from "@/lib/i18n";
import { StatusBadge } from "./StatusBadge";
import { ScrollTable } from "./ScrollTable";

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
    <ScrollTable label={t.common.tableLabel.replace("{name}", t.overview.recentRuns)}>
      <table>
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
            const p = run.progress as Record<string, number | undefined>;
            return (
              <tr key={run.id}>
                {showPipeline ? (
                  <td>
                    <Link href={`/pipelines/${pipeline.id}`}>{pipeline.name}</Link>
                  </td>
                ) : null}
                <td>
                  <StatusBadge status={run.status} labels={t.status} />
                </td>
                <td>{t.status[run.kind] ?? run.kind}</td>
                <td className="whitespace-nowrap">{formatDate(run.started_at ?? run.created_at, tz, lang)}</td>
                <td className="whitespace-nowrap">
                  {formatNumber((p.rows_done ?? 0) + (p.rows_failed ?? 0) + (p.rows_invalid ?? 0), lang)} /{" "}
                  {formatNumber(p.rows_total ?? 0, lang)}
                </td>
                <td>
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
