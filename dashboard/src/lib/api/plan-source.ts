/** What the pipeline form needs of the tenant's Google side, loaded with the page. */
import type { FirstPage } from "../plans";
import { getGoogleIdentity, listSpreadsheets } from "./google";
import type { GoogleIdentity } from "./types";

export async function googleForForm(): Promise<{ google: GoogleIdentity; firstPage: FirstPage }> {
  const google = await getGoogleIdentity();
  if (!google.connected || google.status !== "active") return { google, firstPage: null };
  try {
    const res = await listSpreadsheets();
    if (res.response.ok && res.data) return { google, firstPage: { ok: true, page: res.data } };
    return { google, firstPage: { ok: false, status: res.response.status, problem: res.error ?? {} } };
  } catch {
    return { google, firstPage: { ok: false, status: 503, problem: {} } };
  }
}
