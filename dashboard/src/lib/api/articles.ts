/** Articles, their previews, and posts. */
import { api } from "./client";
import { attempt, unwrap } from "./errors";
import type { Article, ArticleStatus, PostPreview, SocialPlatform } from "./types";

export async function listArticles(
  q: { status?: ArticleStatus; run_id?: string; pipeline_id?: string; cursor?: string; limit?: number } = {},
) {
  return unwrap((await api()).GET("/v1/articles", { params: { query: { limit: 50, ...q } } }));
}

/** How many articles await approval (up to `cap`; `more` when there are more), or null when the API
 * could not say: the navigation then shows no count rather than failing the page. */
export async function countAwaitingApproval(cap = 100): Promise<{ n: number; more: boolean } | null> {
  const res = await attempt(
    (await api()).GET("/v1/articles", { params: { query: { status: "awaiting_approval", limit: cap } } }),
  );
  return res.ok ? { n: res.data.items.length, more: Boolean(res.data.next_cursor) } : null;
}

export async function getArticle(id: string): Promise<Article> {
  return unwrap((await api()).GET("/v1/articles/{article_id}", { params: { path: { article_id: id } } }), {
    orNotFound: true,
  });
}

export async function getPreviews(id: string): Promise<PostPreview[]> {
  return unwrap(
    (await api()).GET("/v1/articles/{article_id}/previews", { params: { path: { article_id: id } } }),
  );
}

export async function listPosts(q: { article_id?: string; platform?: SocialPlatform; cursor?: string } = {}) {
  return unwrap((await api()).GET("/v1/posts", { params: { query: { limit: 100, ...q } } }));
}
