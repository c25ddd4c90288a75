/** What a run's page says, counted from what exists (the run's rows, sub-topics, articles and posts as the
 * API reads them from the tables), with the workflow's own counters only as a floor for the rows while a
 * batch is being written. Safe in server and client components. */
import type { Run, RunRow } from "./api/types";
import type { Dict } from "./i18n/en";
import { rowReason, type Said } from "./problems";

type Counts = Partial<Record<string, number>>;

const sum = (c: Counts | undefined) => Object.values(c ?? {}).reduce<number>((a, b) => a + (b ?? 0), 0);

/** Articles past writing: awaiting a decision, decided, ready or published. */
const WRITTEN = ["awaiting_approval", "approved", "rejected", "ready", "published"];
/** The order statuses are listed in (anything else after them). */
export const ARTICLE_ORDER = ["pending", "writing", "awaiting_approval", "approved", "ready", "published", "rejected", "failed"];
export const POST_ORDER = ["pending", "publishing", "published", "waiting_quota", "needs_reauth", "unknown", "dry_run", "failed"];

export interface RowTally {
  /** Valid rows: the ones the run writes (invalid rows are counted apart). */
  total: number;
  done: number;
  failed: number;
  invalid: number;
  inFlight: number;
  /** Valid rows not finished when the run stopped (failed or cancelled). */
  stopped: number;
  /** done + failed, never more than total. */
  finished: number;
  /** finished / total in percent (100 for a finished run without valid rows). */
  pct: number;
}

export function tallyRows(run: Run, terminal: boolean): RowTally {
  const p = run.progress as Counts;
  const counts = (run.row_counts ?? {}) as Counts;
  const rc = (k: string) => counts[k] ?? 0;
  const invalid = Math.max(p.rows_invalid ?? 0, rc("invalid"));
  const total = Math.max(p.rows_total ?? 0, sum(counts) - rc("invalid"));
  const done = Math.min(total, Math.max(p.rows_done ?? 0, rc("done")));
  const failed = Math.min(total - done, Math.max(p.rows_failed ?? 0, rc("failed")));
  const finished = done + failed;
  const inFlight = terminal ? 0 : Math.max(p.in_flight ?? 0, rc("planning") + rc("writing"));
  const stopped = terminal ? total - finished : 0;
  const pct = total ? Math.round((100 * finished) / total) : terminal ? 100 : 0;
  return { total, done, failed, invalid, inFlight, stopped, finished, pct };
}

export function articleTotals(run: Run) {
  const c = (run.article_counts ?? {}) as Counts;
  return {
    all: sum(c),
    written: WRITTEN.reduce((a, k) => a + (c[k] ?? 0), 0),
    failed: c.failed ?? 0,
    awaiting: c.awaiting_approval ?? 0,
  };
}

export function postTotals(run: Run) {
  const c = (run.post_counts ?? {}) as Counts;
  return { all: sum(c), failed: c.failed ?? 0 };
}

/** [status, count] with a count, in `order` first. */
export function ordered(counts: Counts | undefined, order: string[]): Array<[string, number]> {
  const c = counts ?? {};
  const keys = [...order.filter((k) => k in c), ...Object.keys(c).filter((k) => !order.includes(k)).sort()];
  return keys.map((k) => [k, c[k] ?? 0] as [string, number]).filter(([, n]) => n > 0);
}

/** A post status in words that say what is going on (a pending post may be one being retried). */
export function postStateLabel(status: string, t: Dict): string {
  const r = t.runTruth;
  const words: Record<string, string> = {
    pending: r.postPending,
    publishing: r.postPublishing,
    published: r.postPublished,
    failed: r.postFailed,
    waiting_quota: r.postWaitingQuota,
    needs_reauth: r.postNeedsReauth,
    dry_run: r.postDryRun,
    unknown: r.postUnknown,
  };
  return words[status] ?? (t.status as Record<string, string>)[status] ?? status;
}

export interface RowStory {
  /** Why the row is where it is (the API's reason by its code, or what its counts show for a row with
   * nothing). */
  reason: Said | null;
  /** What the user can do about it. */
  todo: string | null;
  /** Its articles by status, in words ("Articles: Awaiting approval 1"), when it has any. */
  articles: string | null;
  /** Some of its articles wait for approval (the page links to them). */
  awaiting: number;
}

/** A row's reason and next step: a finished row that made nothing never reads as just "done". */
export function rowStory(row: RunRow, t: Dict): RowStory {
  const r = t.runs;
  const rt = t.runTruth;
  const counts = (row.article_counts ?? {}) as Counts;
  const n = sum(counts);
  const labels = t.status as Record<string, string>;
  const articles = n
    ? rt.rowArticles.replace(
        "{list}",
        ordered(counts, ARTICLE_ORDER)
          .map(([k, v]) => `${labels[k] ?? k} ${v}`)
          .join(", "),
      )
    : null;
  const awaiting = counts.awaiting_approval ?? 0;
  const said = rowReason(row, t);
  if (row.status === "invalid") return { reason: said, todo: r.doInvalid, articles, awaiting };
  if (row.status === "failed") {
    const reauth = row.reason_code?.startsWith("google.") || /reauth|reconnect|token/i.test(row.reason ?? "");
    return { reason: said, todo: reauth ? r.doNeedsReauth : r.doFailed, articles, awaiting };
  }
  if (row.status === "done" && n === 0) {
    const none = (row.subtopics ?? 0) === 0;
    return { reason: said ?? { text: none ? rt.rowNoSubtopics : rt.rowNoArticles }, todo: none ? rt.doNewAngle : null, articles, awaiting };
  }
  if (row.status === "done" && (counts.rejected ?? 0) === n) {
    return { reason: said ?? { text: rt.rowAllRejected }, todo: null, articles, awaiting };
  }
  return { reason: said, todo: awaiting ? rt.doApprove : null, articles, awaiting };
}
