/** The tenant's Google side: the identity its runs use, its spreadsheets, a sheet's plan checked. */
import { api } from "./client";
import { unwrap } from "./errors";
import type { GoogleIdentity } from "./types";

export async function getGoogleIdentity(): Promise<GoogleIdentity> {
  return unwrap((await api()).GET("/v1/google/identity"));
}

/** One page of the Google identity's spreadsheets (the caller handles errors: they say what to do). */
export async function listSpreadsheets(cursor?: string, limit = 50) {
  return (await api()).GET("/v1/google/spreadsheets", { params: { query: { cursor, limit } } });
}

export async function previewSheet(sheetId: string, range?: string) {
  return (await api()).GET("/v1/google/spreadsheets/{sheet_id}/preview", {
    params: { path: { sheet_id: sheetId }, query: { range } },
  });
}
