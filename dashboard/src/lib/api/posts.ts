/** Posts found by status, platform, text, run and a window of creation days (the posts page). */
import { api } from "./client";
import { unwrap } from "./errors";
import type { Post } from "./types";
import { SOCIAL } from "./social";
import { asDay, dayStartIn } from "../dates";

export const POST_STATUSES: Post["status"][] = [
  "pending",
  "publishing",
  "published",
  "failed",
  "waiting_quota",
  "needs_reauth",
  "dry_run",
  "unknown",
];
/** Posts a retry can send again (the API answers 409 for any other). */
export const RETRYABLE: Post["status"][] = ["failed", "needs_reauth"];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface PostFilters {
  q?: string;
  status?: Post["status"];
  platform?: Post["platform"];
  run_id?: string;
  /** Days (YYYY-MM-DD) in the tenant's time zone, both included. */
  since?: string;
  until?: string;
}

/** The filters a page's search parameters name; anything malformed is left out. */
export function postFilters(sp: Record<string, string | undefined>): PostFilters {
  const q = sp.q?.trim().slice(0, 200);
  return {
    q: q || undefined,
    status: POST_STATUSES.find((s) => s === sp.status),
    platform: SOCIAL.find((p) => p === sp.platform),
    run_id: sp.run_id && UUID.test(sp.run_id) ? sp.run_id : undefined,
    since: asDay(sp.since),
    until: asDay(sp.until),
  };
}

export async function searchPosts(f: PostFilters, tz: string, cursor?: string) {
  const query = {
    limit: 50,
    q: f.q,
    status: f.status,
    platform: f.platform,
    run_id: f.run_id,
    since: f.since ? dayStartIn(f.since, tz) : undefined,
    until: f.until ? dayStartIn(f.until, tz, 1) : undefined,
    cursor,
  };
  return unwrap((await api()).GET("/v1/posts", { params: { query } }));
}
