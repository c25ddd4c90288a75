import type { PlanCheck } from "@/lib/api/types";
import type { Dict } from "@/lib/i18n/en";
import { fmt } from "@/lib/i18n/fmt";
import { problemReason } from "@/lib/plans";
import { ScrollTable } from "../ScrollTable";

/**
 * What a plan check found: how many rows will run and be skipped, for a sheet whether its Subtopics tab is
 * there and which Google identity read it, then the first rows with each one's problems. On a phone the
 * language and status move under the topic, so the table fits the width.
 */
export function PlanPreview({
  check,
  t,
  subtopicsTab,
  readAs,
}: {
  check: PlanCheck;
  t: Dict["plan"];
  /** A sheet's check: whether the Subtopics tab is there (files always get one). */
  subtopicsTab?: boolean;
  readAs?: string;
}) {
  const skipped = new Set(check.problems.map((p) => p.row_number)).size;
  return (
    <section aria-labelledby="plan-check-h" className="mt-4 space-y-3 rounded-md border border-slate-300 p-3 sm:p-4" data-testid="plan-check">
      <h3 id="plan-check-h" className="text-base font-semibold">
        {t.previewTitle}
      </h3>
      <p className="text-sm" role="status">
        {fmt(t.summary, { rows: check.rows, pending: check.pending, skipped })}
      </p>
      {readAs ? <p className="text-sm text-slate-700">{fmt(t.readAs, { email: readAs })}</p> : null}
      {subtopicsTab === undefined ? null : subtopicsTab ? (
        <p className="text-sm text-green-900">✓ {t.subtopicsOk}</p>
      ) : (
        <p className="rounded-md border border-amber-400 bg-amber-50 px-3 py-2 text-sm text-amber-950">⚠ {t.subtopicsMissing}</p>
      )}
      {check.preview.length ? (
        <ScrollTable label={t.firstRows}>
          <table className="table-fixed" data-testid="plan-rows">
            <caption className="sr-only">{t.firstRows}</caption>
            <thead>
              <tr>
                <th scope="col" className="w-12 px-2">
                  {t.row}
                </th>
                <th scope="col" className="px-2">
                  {t.topic}
                </th>
                <th scope="col" className="hidden w-24 px-2 sm:table-cell">
                  {t.language}
                </th>
                <th scope="col" className="hidden w-24 px-2 sm:table-cell">
                  {t.status}
                </th>
                <th scope="col" className="px-2">
                  {t.problems}
                </th>
              </tr>
            </thead>
            <tbody>
              {check.preview.map((r) => (
                <tr key={r.row_number} className={r.problems.length ? "bg-red-50" : undefined}>
                  <td className="px-2 font-mono">{r.row_number}</td>
                  <td className="px-2 break-words">
                    <div>{r.topic || "—"}</div>
                    {r.notes ? <div className="text-xs text-slate-600">{r.notes}</div> : null}
                    <div className="mt-1 text-xs text-slate-700 sm:hidden">
                      {r.language || t.defaultLanguage}
                      {r.status ? ` · ${r.status}` : ""}
                    </div>
                  </td>
                  <td className="hidden px-2 break-words sm:table-cell">{r.language || t.defaultLanguage}</td>
                  <td className="hidden px-2 break-words sm:table-cell">{r.status || "—"}</td>
                  <td className="px-2 break-words">
                    {r.problems.length === 0 ? (
                      <span className="text-green-900">{t.ok}</span>
                    ) : (
                      <ul className="space-y-1 text-red-900">
                        {r.problems.map((p, i) => (
                          <li key={i}>
                            <span className="font-medium">{fmt(t.column, { column: p.column })}</span>: {problemReason(p, t)}
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollTable>
      ) : null}
    </section>
  );
}
