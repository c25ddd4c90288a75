"use client";

import Link from "next/link";
import { useCallback, useEffect, useRef, useState } from "react";
import type { CostItem, RowPage, Run } from "@/lib/api/types";
import { formatDate, formatNumber, type Locale } from "@/lib/format";
import type { Dict } from "@/lib/i18n";
import { fmt } from "@/lib/i18n/fmt";
import {
  ARTICLE_ORDER,
  POST_ORDER,
  articleTotals,
  ordered,
  postStateLabel,
  postTotals,
  rowStory,
  tallyRows,
} from "@/lib/run-truth";
import { ActionForm } from "../ActionForm";
import { CostBreakdown } from "../cost/CostBreakdown";
import type { FormState } from "../form-state";
import { StatusBadge } from "../StatusBadge";
import { SubmitButton } from "../SubmitButton";
import { btnDanger, btnSecondary, input, label, panel } from "../ui";
import { ScrollTable } from "../ScrollTable";
import { Reason } from "../Reason";
import { runError } from "@/lib/problems";
import { choiceText } from "@/lib/learning";

const TERMINAL = new Set(["completed", "failed", "cancelled"]);
const RUN_EVENTS = ["run.started", "run.progress", "run.completed", "run.failed", "run.cancelled"];
const OTHER_EVENTS = ["subtopics.ready", "article.ready", "article.awaiting_approval", "post.published", "post.failed", "post.waiting_quota"];
const POLL_MS = 5000;

type Progress = Partial<Record<string, number>>;

interface Envelope {
  type: string;
  data: { run_id?: string; status?: Run["status"]; progress?: Progress; error?: string | null };
}

/** A run's live progress: the event stream (through /api/events) with a polling fallback. */
export function RunLive({
  initialRun,
  initialRows,
  initialCost,
  t,
  lang,
  tz,
  canEdit,
  cancelAction,
  retryAction,
}: {
  initialRun: Run;
  initialRows: RowPage;
  /** What the run has cost so far (refreshed with the run). */
  initialCost: CostItem;
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
  const [cost, setCost] = useState<CostItem>(initialCost);
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
      const body = (await res.json()) as { run: Run; rows: RowPage; cost: CostItem | null };
      setRun(body.run);
      setRowPage(body.rows);
      if (body.cost) setCost(body.cost);
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

  const counts = run.row_counts ?? {};
  // Rows: the larger of the workflow's counters (recorded as batches finish) and the rows' own statuses
  // (current). Invalid rows are counted apart: they are skipped, not finished.
  const rows = tallyRows(run, terminal);
  const articles = articleTotals(run);
  const posts = postTotals(run);
  const rt = t.runTruth;
  const failedRows = rows.failed;
  const stages: Array<[string, number, "red" | "amber" | null]> = [
    [r.rowsTotal, rows.total, null],
    [r.rowsDone, rows.done, null],
    [r.rowsFailed, rows.failed, rows.failed ? "red" : null],
    [r.rowsInvalid, rows.invalid, rows.invalid ? "amber" : null],
    [r.inFlight, rows.inFlight, null],
    [r.subtopics, run.subtopics ?? 0, null],
    [r.articlesDone, articles.written, null],
    [rt.awaitingStage, articles.awaiting, articles.awaiting ? "amber" : null],
    [r.articlesFailed, articles.failed, articles.failed ? "red" : null],
    [r.posts, posts.all, null],
    [rt.postsFailed, posts.failed, posts.failed ? "red" : null],
  ];
  const pctOf = (n: number) => (rows.total ? (100 * n) / rows.total : 0);
  const segments: Array<[string, number, string]> = [
    [rt.barDone, rows.done, "bg-blue-700"],
    [rt.barFailed, rows.failed, "bg-red-700"],
    [rt.barStopped, rows.stopped, run.status === "failed" ? "bg-red-300" : "bg-slate-400"],
  ];
  const swatch: Record<string, string> = { ...Object.fromEntries(segments.map(([name, , cls]) => [name, cls])), [rt.barInFlight]: "bg-slate-200 border border-slate-400" };
  const legend: Array<[string, number]> = [
    [rt.barDone, rows.done],
    [rt.barFailed, rows.failed],
    [rt.barInFlight, rows.inFlight],
    [rt.barStopped, rows.stopped],
  ];
  const articlesLink = `/articles?status=awaiting_approval&run_id=${run.id}`;
  const postsLink = `/posts?run_id=${run.id}`;
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
          {r.rowsProgress.replace("{done}", formatNumber(rows.finished, lang)).replace("{total}", formatNumber(rows.total, lang))}
        </p>
        {/* done/total; failed rows (and, for a run that stopped, what it never reached) drawn as such */}
        <div
          role="progressbar"
          aria-label={r.progress}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={rows.pct}
          aria-valuetext={fmt(rt.barText, {
            done: formatNumber(rows.done, lang),
            failed: formatNumber(rows.failed, lang),
            left: formatNumber(rows.total - rows.finished, lang),
            total: formatNumber(rows.total, lang),
          })}
          className="mt-2 flex h-3 w-full overflow-hidden rounded bg-slate-200"
        >
          {segments.map(([name, n, cls]) =>
            n > 0 ? <div key={name} className={`h-full ${cls} transition-all`} style={{ width: `${pctOf(n)}%` }} /> : null,
          )}
        </div>
        <ul aria-label={rt.barLegend} className="mt-2 flex flex-wrap gap-x-4 gap-y-1 text-xs text-slate-700" data-testid="run-bar-legend">
          {legend
            .filter(([, n]) => n > 0)
            .map(([name, n]) => (
              <li key={name} className="flex items-center gap-1">
                <span aria-hidden="true" className={`inline-block h-2.5 w-2.5 rounded-sm ${swatch[name]}`} />
                {name} {formatNumber(n, lang)}
              </li>
            ))}
          {rows.invalid > 0 ? <li>{fmt(rt.invalidApart, { n: formatNumber(rows.invalid, lang) })}</li> : null}
        </ul>
        <h3 className="mt-4 text-sm font-semibold">{r.stages}</h3>
        <dl className="mt-2 grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-6" data-testid="run-stages">
          {stages.map(([name, value, tone]) => (
            <div
              key={name}
              className={`rounded-md border p-2 ${tone === "red" ? "border-red-300 bg-red-50" : tone === "amber" ? "border-amber-300 bg-amber-50" : "border-slate-200"}`}
            >
              <dt className="text-xs text-slate-700">{name}</dt>
              <dd className="text-lg font-semibold tabular-nums">{formatNumber(value, lang)}</dd>
            </div>
          ))}
        </dl>
        {articles.awaiting > 0 ? (
          <p className="mt-4 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-950">
            {fmt(rt.awaitingNotice, { n: formatNumber(articles.awaiting, lang) })}{" "}
            <Link href={articlesLink} className="font-medium">
              {rt.reviewApprovals}
            </Link>
          </p>
        ) : null}
        {posts.failed > 0 ? (
          <p className="mt-4 rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900">
            {fmt(rt.failedPostsNotice, { n: formatNumber(posts.failed, lang) })}{" "}
            <Link href={`${postsLink}&status=failed`} className="font-medium">
              {rt.openFailedPosts}
            </Link>
          </p>
        ) : null}
        <div className="mt-4 grid gap-4 sm:grid-cols-2">
          <div>
            <h3 className="text-sm font-semibold">{rt.articlesByState}</h3>
            {articles.all === 0 ? (
              <p className="mt-1 text-sm text-slate-700">{rt.noArticles}</p>
            ) : (
              <dl className="mt-1 text-sm" data-testid="run-articles">
                {ordered(run.article_counts, ARTICLE_ORDER).map(([status, n]) => (
                  <div key={status} className="flex justify-between gap-2 border-b border-slate-100 py-1">
                    <dt>
                      <StatusBadge status={status} labels={t.status} />
                    </dt>
                    <dd className="tabular-nums">{formatNumber(n, lang)}</dd>
                  </div>
                ))}
              </dl>
            )}
          </div>
          <div>
            <h3 className="text-sm font-semibold">{rt.postsByState}</h3>
            {posts.all === 0 ? (
              <p className="mt-1 text-sm text-slate-700">{rt.noPosts}</p>
            ) : (
              <dl className="mt-1 text-sm" data-testid="run-posts">
                {ordered(run.post_counts, POST_ORDER).map(([status, n]) => (
                  <div key={status} className="flex justify-between gap-2 border-b border-slate-100 py-1">
                    <dt>{postStateLabel(status, t)}</dt>
                    <dd className="tabular-nums">{formatNumber(n, lang)}</dd>
                  </div>
                ))}
              </dl>
            )}
          </div>
        </div>
        <div className="mt-4 flex flex-wrap gap-2">
          <Link href={`/articles?run_id=${run.id}`} className={btnSecondary}>
            {r.articles}
          </Link>
          <Link href={postsLink} className={btnSecondary}>
            {rt.postsOfRun}
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

      <section aria-labelledby="cost-h" className={panel}>
        <h2 id="cost-h">{t.costs.runTitle}</h2>
        <CostBreakdown cost={cost} t={t} lang={lang} articles={articles.all} testId="run-cost" />
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
          <ScrollTable label={t.common.tableLabel.replace("{name}", r.rows)} className="mt-3" cards>
            <table data-testid="run-rows" className="cards">
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
                {rowPage.items.map((row) => {
                  const story = rowStory(row, t);
                  return (
                    <tr key={row.row_number}>
                      <td className="tabular-nums" data-label={r.row}>
                        {row.row_number}
                      </td>
                      <td className="min-w-40" data-label={r.topic}>
                        {row.topic}
                        {row.planned && row.planned.length > 0 ? (
                          <ul className="mt-1 space-y-1 text-xs text-slate-700" aria-label={t.learning.planned}>
                            {row.planned.map((s) => {
                              const why = choiceText(s.choice, t, lang);
                              return (
                                <li key={s.id}>
                                  <span className="text-slate-900">{s.label}</span>
                                  {why ? <span className="block">{why}</span> : null}
                                </li>
                              );
                            })}
                          </ul>
                        ) : null}
                      </td>
                      <td data-label={t.common.language}>{row.language ?? "—"}</td>
                      <td data-label={t.common.status}>
                        <StatusBadge status={row.status} labels={t.status} />
                        {story.articles ? <p className="mt-1 text-xs text-slate-700">{story.articles}</p> : null}
                      </td>
                      <td className="min-w-40 text-slate-800" data-label={r.reason}>
                        <Reason said={story.reason} t={t} />
                      </td>
                      <td className="min-w-40" data-label={r.whatToDo}>
                        {story.awaiting > 0 ? (
                          <Link href={articlesLink}>{story.todo}</Link>
                        ) : (
                          (story.todo ?? r.doNothing)
                        )}
                      </td>
                      <td className="whitespace-nowrap" data-label={t.common.updated}>
                        {formatDate(row.updated_at, tz, lang)}
                      </td>
                    </tr>
                  );
                })}
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
