"use client";

import Link from "next/link";
import { useCallback, useEffect, useRef, useState } from "react";
import type { RowPage, RunRow, Run } from "@/lib/api/types";
import { formatDate, formatNumber, type Locale } from "@/lib/format";
import type { Dict } from "@/lib/i18n";
import { ActionForm } from "../ActionForm";
import type { FormState } from "../form-state";
import { StatusBadge } from "../StatusBadge";
import { SubmitButton } from "../SubmitButton";
import { btnDanger, btnSecondary, input, label, panel } from "../ui";
import { ScrollTable } from "../ScrollTable";
import { Reason } from "../Reason";
import { rowReason, runError } from "@/lib/problems";

const TERMINAL = new Set(["completed", "failed", "cancelled"]);
const RUN_EVENTS = ["run.started", "run.progress", "run.completed", "run.failed", "run.cancelled"];
const OTHER_EVENTS = ["subtopics.ready", "article.ready", "article.awaiting_approval", "post.published", "post.failed", "post.waiting_quota"];
const POLL_MS = 5000;

type Progress = Partial<Record<string, number>>;

interface Envelope {
  type: string;
  data: { run_id?: string; status?: Run["status"]; progress?: Progress; error?: string | null };
}

function whatToDo(row: RunRow, t: Dict["runs"]): string {
  if (row.status === "invalid") return t.doInvalid;
  if (row.status === "failed") return row.reason_code?.startsWith("google.") ? t.doNeedsReauth : t.doFailed;
  return t.doNothing;
}

/** A run's live progress: the event stream (through /api/events) with a polling fallback. */
export function RunLive({
  initialRun,
  initialRows,
  t,
  lang,
  tz,
  canEdit,
  cancelAction,
  retryAction,
}: {
  initialRun: Run;
  initialRows: RowPage;
  t: Dict;
  lang: Locale;
  tz: string;
  canEdit: boolean;
  cancelAction: (s: FormState) => Promise<FormState>;
  retryAction: (s: FormState) => Promise<FormState>;
}) {
  const r = t.runs;
  const [run, setRun] = useState<Run>(initialRun);
  const [rowPage, setRowPage] = useState<RowPage>(initialRows);
  const [filter, setFilter] = useState("");
  const [live, setLive] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const [pages, setPages] = useState(1);
  const query = useRef({ filter, pages });
  query.current = { filter, pages };
  const runId = initialRun.id;

  const refresh = useCallback(async () => {
    const { filter: status, pages: n } = query.current;
    const q = new URLSearchParams({ pages: String(n), ...(status ? { status } : {}) });
    try {
      const res = await fetch(`/api/runs/${runId}?${q}`, { cache: "no-store" });
      if (!res.ok) return;
      const body = (await res.json()) as { run: Run; rows: RowPage };
      setRun(body.run);
      setRowPage(body.rows);
    } catch {
      // the next event or poll tries again
    }
  }, [runId]);

  const soon = useCallback(() => {
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      void refresh();
    }, 1500);
  }, [refresh]);

  useEffect(() => {
    let es: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | null = null;
    let closed = false;
    const connect = () => {
      es = new EventSource("/api/events");
      es.onopen = () => {
        setLive(true);
        void refresh();
      };
      es.onerror = () => {
        setLive(false);
        if (es && es.readyState === EventSource.CLOSED && !closed) {
          retry = setTimeout(connect, 3000);
        }
      };
      for (const type of RUN_EVENTS) {
        es.addEventListener(type, (e) => {
          const env = JSON.parse((e as MessageEvent<string>).data) as Envelope;
          if (env.data.run_id !== runId) return;
          setRun((prev) => ({
            ...prev,
            status: env.data.status ?? prev.status,
            progress: { ...prev.progress, ...(env.data.progress ?? {}) },
            error: env.data.error ?? prev.error,
          }));
          soon();
        });
      }
      for (const type of OTHER_EVENTS) es.addEventListener(type, soon);
    };
    connect();
    return () => {
      closed = true;
      if (retry) clearTimeout(retry);
      es?.close();
    };
  }, [runId, refresh, soon]);

  const terminal = TERMINAL.has(run.status);
  useEffect(() => {
    if (terminal) return;
    const id = setInterval(() => void refresh(), POLL_MS);
    return () => clearInterval(id);
  }, [terminal, refresh]);

  useEffect(() => {
    void refresh();
  }, [filter, pages, refresh]);

  const p = run.progress as Progress;
  // The workflow's counters are recorded as batches finish; the rows' own statuses are current.
  const counts = run.row_counts ?? {};
  const rc = (k: string) => counts[k] ?? 0;
  // "Rows" counts the valid rows (the ones to write); invalid rows are counted apart.
  const rows = {
    total: Math.max(p.rows_total ?? 0, Object.values(counts).reduce((a, b) => a + b, 0) - rc("invalid")),
    done: Math.max(p.rows_done ?? 0, rc("done")),
    failed: Math.max(p.rows_failed ?? 0, rc("failed")),
    invalid: Math.max(p.rows_invalid ?? 0, rc("invalid")),
    inFlight: terminal ? 0 : Math.max(p.in_flight ?? 0, rc("planning") + rc("writing")),
  };
  const total = rows.total + rows.invalid;
  const finished = Math.min(total, rows.done + rows.failed + rows.invalid);
  const pct = total ? Math.min(100, Math.round((100 * finished) / total)) : terminal ? 100 : 0;
  const failedRows = rows.failed;
  const stages: Array<[string, number | undefined]> = [
    [r.rowsTotal, rows.total],
    [r.rowsDone, rows.done],
    [r.rowsFailed, rows.failed],
    [r.rowsInvalid, rows.invalid],
    [r.inFlight, rows.inFlight],
    [r.subtopics, p.subtopics],
    [r.articlesDone, p.articles_done],
    [r.articlesFailed, p.articles_failed],
    [r.posts, p.posts],
  ];
  const banner =
    run.status === "completed" ? r.finishedOk : run.status === "failed" ? r.finishedFailed : run.status === "cancelled" ? r.finishedCancelled : "";

  return (
    <div className="space-y-4">
      <section aria-labelledby="progress-h" className={panel}>
        <div className="flex flex-wrap items-center justify-between gap-2">
          <h2 id="progress-h">{r.progress}</h2>
          <div className="flex items-center gap-2 text-sm">
            <StatusBadge status={run.status} labels={t.status} />
            {!terminal ? (
              <span className="flex items-center gap-1 text-slate-700">
                <span aria-hidden="true" className={`inline-block h-2 w-2 rounded-full ${live ? "bg-green-600" : "bg-amber-500"}`} />
                {live ? r.live : r.reconnecting}
              </span>
            ) : null}
          </div>
        </div>
        <div role="status" aria-live="polite" className="mt-2 text-sm font-medium">
          {banner}
        </div>
        {run.error ? (
          <div className="mt-2 text-sm text-red-800">
            <Reason said={runError(run, t)} t={t} />
          </div>
        ) : null}
        <p className="mt-3 text-sm text-slate-700">
          {r.rowsProgress.replace("{done}", formatNumber(finished, lang)).replace("{total}", formatNumber(total, lang))}
        </p>
        <div
          role="progressbar"
          aria-label={r.progress}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={pct}
          className="mt-2 h-3 w-full overflow-hidden rounded bg-slate-200"
        >
          <div className="h-full bg-blue-700 transition-all" style={{ width: `${pct}%` }} />
        </div>
        <h3 className="mt-4 text-sm font-semibold">{r.stages}</h3>
        <dl className="mt-2 grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-5" data-testid="run-stages">
          {stages.map(([name, value]) => (
            <div key={name} className="rounded-md border border-slate-200 p-2">
              <dt className="text-xs text-slate-600">{name}</dt>
              <dd className="text-lg font-semibold tabular-nums">{formatNumber(value ?? 0, lang)}</dd>
            </div>
          ))}
        </dl>
        <div className="mt-4 flex flex-wrap gap-2">
          <Link href={`/articles?run_id=${run.id}`} className={btnSecondary}>
            {r.articles}
          </Link>
          {canEdit && !terminal ? (
            <ActionForm action={cancelAction}>
              <SubmitButton className={btnDanger}>{r.cancel}</SubmitButton>
            </ActionForm>
          ) : null}
          {canEdit && terminal && failedRows > 0 ? (
            <ActionForm action={retryAction}>
              <SubmitButton>{r.retry}</SubmitButton>
            </ActionForm>
          ) : null}
        </div>
        <dl className="mt-4 grid grid-cols-1 gap-2 text-sm sm:grid-cols-3">
          <div>
            <dt className="text-slate-600">{r.kind}</dt>
            <dd>{t.status[run.kind] ?? run.kind}</dd>
          </div>
          <div>
            <dt className="text-slate-600">{r.started}</dt>
            <dd>{formatDate(run.started_at ?? run.created_at, tz, lang)}</dd>
          </div>
          <div>
            <dt className="text-slate-600">{r.finished}</dt>
            <dd>{formatDate(run.finished_at, tz, lang)}</dd>
          </div>
        </dl>
      </section>

      <section aria-labelledby="rows-h" className={panel}>
        <div className="flex flex-wrap items-end justify-between gap-2">
          <h2 id="rows-h">{r.rows}</h2>
          <div>
            <label htmlFor="row-filter" className={label}>
              {r.filter}
            </label>
            <select
              id="row-filter"
              className={`${input} mt-1 w-auto`}
              value={filter}
              onChange={(e) => {
                setPages(1);
                setFilter(e.target.value);
              }}
            >
              <option value="">
                {r.all} ({formatNumber(Object.values(counts).reduce((a, b) => a + b, 0), lang)})
              </option>
              {Object.entries(counts).map(([status, n]) => (
                <option key={status} value={status}>
                  {(t.status as Record<string, string>)[status] ?? status} ({formatNumber(n, lang)})
                </option>
              ))}
            </select>
          </div>
        </div>
        {rowPage.items.length === 0 ? (
          <p className="mt-3 text-sm text-slate-700">{r.noRows}</p>
        ) : (
          <ScrollTable label={t.common.tableLabel.replace("{name}", r.rows)} className="mt-3">
            <table data-testid="run-rows">
              <thead>
                <tr>
                  <th scope="col">{r.row}</th>
                  <th scope="col">{r.topic}</th>
                  <th scope="col">{t.common.language}</th>
                  <th scope="col">{t.common.status}</th>
                  <th scope="col">{r.reason}</th>
                  <th scope="col">{r.whatToDo}</th>
                  <th scope="col">{t.common.updated}</th>
                </tr>
              </thead>
              <tbody>
                {rowPage.items.map((row) => (
                  <tr key={row.row_number}>
                    <td className="tabular-nums">{row.row_number}</td>
                    <td className="min-w-40">{row.topic}</td>
                    <td>{row.language ?? "—"}</td>
                    <td>
                      <StatusBadge status={row.status} labels={t.status} />
                    </td>
                    <td className="min-w-40 text-slate-800">
                      <Reason said={rowReason(row, t)} t={t} />
                    </td>
                    <td className="min-w-40">{whatToDo(row, r)}</td>
                    <td className="whitespace-nowrap">{formatDate(row.updated_at, tz, lang)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollTable>
        )}
        {rowPage.next_cursor && pages < 10 ? (
          <button type="button" className={`${btnSecondary} mt-3`} onClick={() => setPages((n) => n + 1)}>
            {t.common.more}
          </button>
        ) : null}
      </section>
    </div>
  );
}
