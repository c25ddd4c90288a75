/** The gateway's errors and stored reasons in the UI's language, from their stable codes and parameters
 * (never by matching English text). What has no code here is said generically, with the request's
 * reference; in English the gateway's own detail may be shown, in Korean it is kept for the
 * "details (English)" disclosure only. Safe in server and client components. */
import type { Dict } from "./i18n/en";
import { fmt } from "./i18n/fmt";
import { planName } from "./plan-limits";
import { VENDOR_NAMES, WRITER_NAMES } from "./writers";

type Vars = Record<string, string | number>;

export interface FieldError {
  loc?: Array<string | number>;
  msg?: string;
  type?: string;
  ctx?: Record<string, unknown> | null;
}

export interface ProblemBody {
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  params?: Record<string, unknown> | null;
  request_id?: string | null;
  errors?: FieldError[] | null;
}

/** A message in the UI's language, and the English original behind it when there is one to keep. */
export interface Said {
  text: string;
  original?: string;
}

const PLATFORM_KEYS = ["facebook", "instagram", "threads", "x", "google"] as const;

function vars(params: Record<string, unknown> | null | undefined, t: Dict): Vars {
  const out: Vars = {};
  for (const [k, v] of Object.entries(params ?? {})) {
    if (typeof v === "number" || typeof v === "string") out[k] = v;
    else if (Array.isArray(v)) out[k] = v.map(String).join(", ");
  }
  if (typeof out.plan === "string") out.plan = planName(out.plan, t);
  const platform = out.platform;
  if (typeof platform === "string" && (PLATFORM_KEYS as readonly string[]).includes(platform)) {
    out.platform = t.platforms[platform as (typeof PLATFORM_KEYS)[number]];
  }
  const provider = out.provider;
  if (typeof provider === "string" && provider in WRITER_NAMES) {
    out.writer = WRITER_NAMES[provider] ?? provider;
    out.vendor = VENDOR_NAMES[provider] ?? provider;
  }
  return out;
}

/** Why a tenant's own model key is not used (its pause, a writer skipped or refused): worded by its code,
 * the vendor's own words (English) behind the disclosure. */
export function modelKeyReason(
  why: { code?: string | null; params?: Record<string, unknown> | null; reason?: string | null },
  t: Dict,
): Said | null {
  const known = why.code ? t.problems.codes[why.code] : undefined;
  const said = typeof why.params?.message === "string" ? why.params.message : (why.reason ?? undefined);
  if (!known) return why.reason ? { text: t.problems.generic, original: why.reason } : null;
  return { text: fmt(known, vars(why.params, t)), original: said };
}

/** Why a writer wrote no draft: a reason about the tenant's own key by its code; any other failure in
 * general words, its English cause behind the disclosure. */
export function writerFailure(
  f: { writer: string; kind: string; message: string; code?: string | null; params?: Record<string, unknown> | null },
  t: Dict,
): Said {
  const own = modelKeyReason({ code: f.code, params: f.params, reason: f.message }, t);
  if (f.code && own) return own;
  const writer = WRITER_NAMES[f.writer] ?? f.writer;
  return { text: fmt(t.articles.writerFailed, { writer }), original: `${f.kind}: ${f.message}` };
}

function fieldError(e: FieldError, t: Dict): string {
  const p = t.problems;
  const name = String([...(e.loc ?? [])].reverse().find((x) => typeof x === "string" && x !== "body") ?? "");
  const field = p.fields[name] ?? name;
  const rule = (e.type && p.rules[e.type]) || p.rules.default;
  return fmt(rule ?? "", { ...vars(e.ctx ?? {}, t), field });
}

/** One sentence (or one per field) for an API error, in the UI's language. */
export function problemMessage(body: ProblemBody | undefined, status: number, t: Dict, lang: string): string {
  const p = t.problems;
  if (body?.errors?.length) return body.errors.map((e) => fieldError(e, t)).join(" ");
  const known = body?.code ? p.codes[body.code] : undefined;
  if (known) return fmt(known, vars(body?.params, t));
  const detail = status < 500 && lang === "en" ? body?.detail : undefined;
  const text = detail || p.status[String(status)] || p.generic;
  return body?.request_id ? `${text} ${fmt(p.reference, { id: body.request_id })}` : text;
}

/** A plan row's problem (the plan check's and a skipped row's code), in the plan form's words; null for a
 * code that is not a row check's. */
export function planProblem(code: string | null | undefined, params: Record<string, unknown> | null | undefined, t: Dict["plan"]): string | null {
  const v = params ?? {};
  const s = (k: string) => String(v[k] ?? "");
  switch (code) {
    case "row.formula":
      return fmt(t.problemFormula, { char: s("char") });
    case "row.empty_topic":
      return t.problemEmptyTopic;
    case "row.too_long":
      return fmt(t.problemTooLong, { length: s("length"), limit: s("limit") });
    case "row.unknown_language":
      return fmt(t.problemLanguage, { lang: s("language"), list: s("languages") });
    default:
      return null;
  }
}

/** Why a plan row was skipped or failed. */
export function rowReason(
  row: { reason?: string | null; reason_code?: string | null; reason_params?: Record<string, unknown> | null },
  t: Dict,
): Said | null {
  if (!row.reason && !row.reason_code) return null;
  const check = planProblem(row.reason_code, row.reason_params, t.plan);
  if (check) return { text: check };
  const known = row.reason_code ? t.problems.rows[row.reason_code] : undefined;
  if (!known) return { text: t.problems.rows["row.invalid"] ?? "", original: row.reason ?? undefined };
  // A planning failure's English reason is the cause itself: kept behind the disclosure.
  const original = row.reason_code === "row.planning_failed" ? (row.reason ?? undefined) : undefined;
  return { text: fmt(known, vars(row.reason_params, t)), original };
}

/** Why a post failed or waits; the platform's own words (English) behind the disclosure. */
export function postError(
  post: { error?: string | null; error_code?: string | null; error_params?: Record<string, unknown> | null },
  t: Dict,
): Said | null {
  if (!post.error) return null;
  const known = post.error_code ? t.problems.posts[post.error_code] : undefined;
  if (!known) return { text: t.problems.generic, original: post.error };
  const v = vars(post.error_params, t);
  const message = typeof v.message === "string" ? v.message : undefined;
  return { text: fmt(known, v), original: message };
}

/** Why a run ended without its work, or was skipped: a refusal by its code (`run.<refusal>` in
 * `progress.refusal`), a failure in general words with its English cause behind the disclosure. */
export function runError(run: { error?: string | null; progress?: Record<string, unknown> }, t: Dict): Said | null {
  if (!run.error) return null;
  const refusal = run.progress?.refusal;
  const known = typeof refusal === "string" ? t.problems.codes[`run.${refusal}`] : undefined;
  if (known) return { text: known, original: run.error };
  return { text: t.problems.runFailed, original: run.error };
}

/** Why an article failed (its writing, or some of its posts: those are listed on the article). */
export function articleError(article: { status?: string; error?: string | null }, t: Dict): Said | null {
  if (!article.error) return null;
  const text = article.status === "failed" ? t.problems.articleFailed : t.problems.postsFailed;
  return { text, original: article.error };
}

/** The editor's decision in the UI's language, from its data (the API's `rationale` is the same in English). */
export function editorRationale(
  editor: { mode: string; winner?: string | null; scores?: Record<string, number>; score_source?: string | null },
  writers: string[],
  t: Dict,
): string {
  const e = t.problems.editor;
  if (editor.mode === "merge") return fmt(e.merged, { writers: writers.join(", ") });
  if (!editor.winner) return e.none;
  const scores = editor.scores ?? {};
  const ranked = Object.keys(scores)
    .sort((a, b) => (scores[b] ?? 0) - (scores[a] ?? 0))
    .map((w) => `${w} ${(scores[w] ?? 0).toFixed(1)}`)
    .join(", ");
  const by = editor.score_source === "editor" ? e.byEditor : e.byRubric;
  return fmt(e.chose, { winner: editor.winner, by, ranked });
}

/** A part of an article a rule wrote instead of an agent (its `fallbacks`), in the UI's language: whose
 * answer, why it could not be used and what stood in; what was wrong with the last answer (English) behind
 * the disclosure. */
export function fallbackText(
  fallback: { node: string; reason: string; attempts: number; problem?: string | null },
  t: Dict,
): Said {
  const f = t.problems.fallbacks;
  const why = fallback.reason === "offline" ? f.offline : fmt(f.invalid_answer, { attempts: fallback.attempts });
  const node = f.nodes[fallback.node] ?? fallback.node;
  return { text: `${node}: ${why} ${f.instead[fallback.node] ?? ""}`.trim(), original: fallback.problem ?? undefined };
}

/** Why a post's figures are no longer (or not yet) collected, from its `metrics_code`; the platform's own
 * words (English) behind the disclosure. */
export function metricsReason(
  post: { metrics_code?: string | null; metrics_params?: Record<string, unknown> | null },
  t: Dict,
): Said | null {
  if (!post.metrics_code) return null;
  const known = t.problems.posts[post.metrics_code];
  const v = vars(post.metrics_params, t);
  const message = typeof v.message === "string" ? v.message : undefined;
  if (!known) return { text: t.problems.generic, original: message ?? post.metrics_code };
  return { text: fmt(known, v), original: message };
}
