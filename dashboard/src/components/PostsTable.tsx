import Link from "next/link";
import type { Post } from "@/lib/api/types";
import { formatDate, type Locale } from "@/lib/format";
import type { Dict } from "@/lib/i18n";
import { StatusBadge } from "./StatusBadge";
import { ScrollTable } from "./ScrollTable";
import { Reason } from "./Reason";
import { postError } from "@/lib/problems";

/** Posts with their platform ids and links (only http(s) permalinks become links). */
export function PostsTable({
  posts,
  t,
  lang,
  tz,
  showArticle = false,
}: {
  posts: Post[];
  t: Dict;
  lang: Locale;
  tz: string;
  showArticle?: boolean;
}) {
  return (
    <ScrollTable label={t.common.tableLabel.replace("{name}", t.posts.title)}>
      <table data-testid="posts">
        <thead>
          <tr>
            <th scope="col">{t.common.platform}</th>
            <th scope="col">{t.common.account}</th>
            <th scope="col">{t.common.status}</th>
            <th scope="col">{t.posts.platformId}</th>
            <th scope="col">{t.posts.published}</th>
            {showArticle ? <th scope="col">{t.posts.article}</th> : null}
            <th scope="col">{t.posts.error}</th>
          </tr>
        </thead>
        <tbody>
          {posts.map((post) => (
            <tr key={post.id}>
              <td>{t.platforms[post.platform] ?? post.platform}</td>
              <td className="break-all">{post.account_id}</td>
              <td>
                <StatusBadge status={post.status} labels={t.status} />
              </td>
              <td className="font-mono text-xs break-all">
                {post.platform_post_id ? (
                  post.permalink && /^https?:\/\//.test(post.permalink) ? (
                    <a href={post.permalink} target="_blank" rel="noopener noreferrer">
                      {post.platform_post_id}
                    </a>
                  ) : (
                    post.platform_post_id
                  )
                ) : (
                  "—"
                )}
              </td>
              <td className="whitespace-nowrap">
                {post.published_at
                  ? formatDate(post.published_at, tz, lang)
                  : post.not_before
                    ? `${t.posts.notBefore}: ${formatDate(post.not_before, tz, lang)}`
                    : "—"}
              </td>
              {showArticle ? (
                <td>
                  <Link href={`/articles/${post.article_id}`}>{t.posts.article}</Link>
                </td>
              ) : null}
              <td className="min-w-32 text-red-800">
                <Reason said={postError(post, t)} t={t} empty="" />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollTable>
  );
}
