/** The posts a calendar shows: every post whose calendar time falls in its days (all pages, bounded). */
import { api } from "./client";
import { unwrap } from "./errors";
import type { Post, SocialPlatform } from "./types";
import { dayStartIn } from "../dates";

const PAGE = 200;
/** A month of a busy tenant fits; past this the calendar says it shows only the first posts. */
const MAX_PAGES = 10;

export interface CalendarFilters {
  platform?: SocialPlatform;
  account?: string;
}

export async function calendarPosts(
  first: string,
  last: string,
  tz: string,
  f: CalendarFilters,
): Promise<{ posts: Post[]; truncated: boolean }> {
  const client = await api();
  const posts: Post[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < MAX_PAGES; i++) {
    const query = {
      limit: PAGE,
      platform: f.platform,
      account_id: f.account,
      calendar_since: dayStartIn(first, tz),
      calendar_until: dayStartIn(last, tz, 1),
      cursor,
    };
    const page = await unwrap(client.GET("/v1/posts", { params: { query } }));
    posts.push(...page.items);
    if (!page.next_cursor) return { posts, truncated: false };
    cursor = page.next_cursor;
  }
  return { posts, truncated: true };
}
