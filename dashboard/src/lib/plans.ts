/** Plan helpers shared by the form (client) and its server actions: sheet ids from links, the status note
 * column's choices, and the gateway's English plan problems and Google errors in the UI's language. */
import type { Dict } from "./i18n/en";
import { fmt } from "./i18n/fmt";
import type { PlanRowProblem, SpreadsheetPage } from "./api/types";

export const PLAN_RANGE = "ContentPlan!A2:E";
export const DEFAULT_NOTE_COLUMN = "F";
/** F to Z: A–E are the plan's own columns. */
export const NOTE_COLUMNS = Array.from({ length: 21 }, (_, i) => String.fromCharCode(70 + i));

/** The spreadsheet id in a Google Sheets link (`…/spreadsheets/d/{id}/edit…`), or the value as typed. */
export function sheetIdOf(value: string): string {
  const m = value.match(/\/spreadsheets\/d\/([A-Za-z0-9_-]+)/);
  return (m?.[1] ?? value).trim();
}

/** A row problem's reason in the UI's language (the gateway words them in English; the known ones are
 * re-worded here, anything else is shown as it came). */
export function problemReason(p: PlanRowProblem, t: Dict["plan"]): string {
  const r = p.reason;
  let m = r.match(/^starts with '(.+?)', which a spreadsheet/);
  if (m) return fmt(t.problemFormula, { char: m[1] ?? "" });
  if (r.startsWith("the topic is empty")) return t.problemEmptyTopic;
  m = r.match(/^is (\d+) characters long; the limit is (\d+)/);
  if (m) return fmt(t.problemTooLong, { length: m[1] ?? "", limit: m[2] ?? "" });
  m = r.match(/^unknown language '(.*)'; use one of (.*)$/);
  if (m) return fmt(t.problemLanguage, { lang: m[1] ?? "", list: m[2] ?? "" });
  return r;
}

export interface ProblemJson {
  title?: string;
  status?: number;
  detail?: string;
}

/** The first page of the Google identity's spreadsheets as the page loaded it, or why it could not. */
export type FirstPage = { ok: true; page: SpreadsheetPage } | { ok: false; status: number; problem: ProblemJson } | null;

/** A Google-side error of the picker or the sheet check, said in the UI's language. */
export function googleErrorText(
  status: number,
  problem: ProblemJson,
  t: Dict["plan"],
  ctx: { email?: string | null; range?: string },
): string {
  const detail = problem.detail ?? "";
  if (status === 403 && problem.title?.startsWith("Sheet not shared")) {
    const email = detail.match(/share the sheet with (\S+) /)?.[1] ?? ctx.email ?? "";
    return fmt(t.errNotShared, { email });
  }
  if (status === 404) return t.errNotFound;
  if (status === 409 && problem.title === "Google not connected") return t.errNotConnected;
  if (status === 409 && problem.title === "Google permission missing") return t.listNotAllowed;
  if (status === 409) return t.errReconnect;
  if (status === 422 && detail.includes("has no tab")) {
    const tab = ((ctx.range || PLAN_RANGE).split("!")[0] ?? "").replace(/^'|'$/g, "");
    return fmt(t.errNoTab, { tab });
  }
  if (status === 422 && detail.includes("is not a range")) return t.errRange;
  if (status === 502 || status === 503) return t.errUnavailable;
  return detail || problem.title || `HTTP ${status}`;
}
