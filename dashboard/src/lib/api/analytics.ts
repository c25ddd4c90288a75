/** Engagement analytics: summaries, the best posts and one post's series, for a window of publishing days
 * in the tenant's time zone (the analytics page, its CSV export and the article page). */
import type { Api } from "./client";
import { api } from "./client";
import { unwrap } from "./errors";
import type { PostMetricsSeries, SocialPlatform, Summary } from "./types";
import { SOCIAL } from "./social";
import { addDays } from "../calendar";
import { asDay, dayStartIn } from "../dates";

export interface AnalyticsFilters {
  platform?: SocialPlatform;
  /** Publishing days (YYYY-MM-DD) in the tenant's time zone, both included. */
  since: string;
  until: string;
}

/** The window a page's (or the export's) parameters name: the last 30 days by default. */
export function analyticsFilters(sp: Record<string, string | undefined>, today: string): AnalyticsFilters {
  const until = asDay(sp.until) ?? today;
  const since = asDay(sp.since) ?? addDays(until, -29);
  return {
    platform: SOCIAL.find((p) => p === sp.platform),
    since: since <= until ? since : until,
    until,
  };
}

/** The API's query for the filters (instants at the tenant's day boundaries). */
export function analyticsQuery(f: AnalyticsFilters, tz: string) {
  return { platform: f.platform, since: dayStartIn(f.since, tz), until: dayStartIn(f.until, tz, 1) };
}

export type Grouping = Summary["group_by"];

export async function summary(f: AnalyticsFilters, tz: string, group_by: Grouping): Promise<Summary> {
  return unwrap((await api()).GET("/v1/analytics/summary", { params: { query: { ...analyticsQuery(f, tz), group_by } } }));
}

export async function topPosts(f: AnalyticsFilters, tz: string, limit = 10) {
  return unwrap(
    (await api()).GET("/v1/analytics/posts", { params: { query: { ...analyticsQuery(f, tz), sort: "engagement", limit } } }),
  );
}

export async function postSeries(postId: string): Promise<PostMetricsSeries> {
  return unwrap((await api()).GET("/v1/posts/{post_id}/metrics", { params: { path: { post_id: postId } } }));
}

/** Every page of the analytics posts (newest first), one page at a time. */
export async function* allAnalyticsPosts(client: Api, f: AnalyticsFilters, tz: string) {
  let cursor: string | undefined;
  for (;;) {
    const { data, response } = await client.GET("/v1/analytics/posts", {
      params: { query: { ...analyticsQuery(f, tz), sort: "published_at", limit: 200, cursor } },
    });
    if (!response.ok || !data) throw new Error(`analytics posts: HTTP ${response.status}`);
    yield data.items;
    if (!data.next_cursor) return;
    cursor = data.next_cursor;
  }
}
