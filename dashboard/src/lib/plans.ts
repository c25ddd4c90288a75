/** Plan helpers shared by the form (client) and its server actions: sheet ids from links, the status note
 * column's choices, and the gateway's English plan problems and Google errors in the UI's language. */
import type { Dict } from "./i18n/en";
import { fmt } from "./i18n/fmt";
import type { PlanRowProblem, SpreadsheetPage } from "./api/types";
import { planProblem } from "./problems";

export const PLAN_RANGE = "ContentPlan!A2:E";
export const DEFAULT_NOTE_COLUMN = "F";
/** F to Z: A–E are the plan's own columns. */
export const NOTE_COLUMNS = Array.from({ length: 21 }, (_, i) => String.fromCharCode(70 + i));

/** The spreadsheet id in a Google Sheets link (`…/spreadsheets/d/{id}/edit…`), or the value as typed. */
export function sheetIdOf(value: string): string {
  const m = value.match(/\/spreadsheets\/d\/([A-Za-z0-9_-]+)/);
  return (m?.[1] ?? value).trim();
}

/** A row problem's reason in the UI's language, from its code (the gateway's English reason for a code
 * this dashboard does not know yet). */
export function problemReason(p: PlanRowProblem, t: Dict["plan"]): string {
  return planProblem(p.code, p.params, t) ?? p.reason;
}

export interface ProblemJson {
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  params?: Record<string, unknown> | null;
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
  switch (problem.code) {
    case "sheet.not_shared":
      return fmt(t.errNotShared, { email: String(problem.params?.email ?? ctx.email ?? "") });
    case "sheet.bad_range":
      return t.errRange;
    case "sheet.not_found":
      return t.errNotFound;
    case "sheet.tab_missing":
      return fmt(t.errNoTab, { tab: String(problem.params?.tab ?? "") });
    case "google.not_connected":
      return t.errNotConnected;
    case "google.drive_not_allowed":
      return t.listNotAllowed;
    case "google.reconnect":
      return t.errReconnect;
    case "google.unavailable":
    case "google.refused":
      return t.errUnavailable;
  }
  if (status === 404) return t.errNotFound;
  if (status === 409) return t.errReconnect;
  return t.errUnavailable;
}
