import Link from "next/link";
import { RETRYABLE } from "@/lib/api/posts";
import type { Post } from "@/lib/api/types";
import { formatDate, formatNumber, type Locale } from "@/lib/format";
import type { Dict } from "@/lib/i18n";
import { fmt } from "@/lib/i18n/fmt";
import { StatusBadge } from "./StatusBadge";
import { ScrollTable } from "./ScrollTable";
import { Reason } from "./Reason";
import { postError } from "@/lib/problems";
import { SubmitButton } from "./SubmitButton";
import { Truncate } from "./Truncate";
import { btnSecondary } from "./ui";

const EXCERPT = 160;

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > EXCERPT ? `${flat.slice(0, EXCERPT - 1)}…` : flat;
}

/**
 * Posts: the article they come from and a text excerpt, where they went, their status with the error, the
 * platform's id with a link to the published post (only http(s) permalinks become links), and dates.
 * With `retry` (inside a form bound to the retry action): a box to tick and a Retry button on each post
 * that can be sent again. On a phone each post is a card.
 */
export function PostsTable({
  posts,
  t,
  lang,
  tz,
  showArticle = false,
  retry = false,
}: {
  posts: Post[];
  t: Dict;
  lang: Locale;
  tz: string;
  showArticle?: boolean;
  retry?: boolean;
}) {
  const pp = t.postsPage;
  return (
    <ScrollTable label={t.common.tableLabel.replace("{name}", t.posts.title)} cards>
      <table data-testid="posts" className="cards">
        <thead>
          <tr>
            {retry ? (
              <th scope="col" className="w-10">
                <span className="sr-only">{pp.select}</span>
              </th>
            ) : null}
            <th scope="col">{pp.post}</th>
            <th scope="col">{t.common.platform}</th>
            <th scope="col">{t.common.status}</th>
            <th scope="col">{t.posts.platformId}</th>
            <th scope="col">{pp.dates}</th>
            {retry ? (
              <th scope="col">
                <span className="sr-only">{t.common.actions}</span>
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody>
          {posts.map((post) => {
            const platform = t.platforms[post.platform] ?? post.platform;
            const title = post.article_title || pp.untitled;
            const canRetry = retry && RETRYABLE.includes(post.status);
            const link = post.permalink && /^https?:\/\//.test(post.permalink) ? post.permalink : null;
            return (
              <tr key={post.id}>
                {retry ? (
                  <td className={canRetry ? "" : "cards-hide"}>
                    {canRetry ? (
                      <input
                        type="checkbox"
                        name="ids"
                        value={post.id}
                        className="h-4 w-4"
                        aria-label={fmt(pp.selectOne, { platform, title })}
                      />
                    ) : null}
                  </td>
                ) : null}
                <td className="min-w-56" data-label={pp.post}>
                  {showArticle ? (
                    <Link href={`/articles/${post.article_id}`} className="font-medium">
                      {title}
                    </Link>
                  ) : null}
                  {post.text ? (
                    <p className="mt-0.5 text-slate-700" title={post.text}>
                      {excerpt(post.text)}
                    </p>
                  ) : null}
                </td>
                <td data-label={t.common.platform}>
                  <div>{platform}</div>
                  <Truncate text={post.account_id} className="max-w-32 font-mono text-xs text-slate-600" />
                </td>
                <td className="min-w-32" data-label={t.common.status}>
                  <StatusBadge status={post.status} labels={t.status} />
                  {post.error ? (
                    <div className="mt-1 text-xs text-red-800">
                      <Reason said={postError(post, t)} t={t} empty="" />
                    </div>
                  ) : null}
                  {post.attempts > 1 || post.status === "failed" ? (
                    <p className="mt-1 text-xs text-slate-600">{fmt(pp.attempts, { n: formatNumber(post.attempts, lang) })}</p>
                  ) : null}
                </td>
                <td data-label={t.posts.platformId}>
                  {post.platform_post_id ? <Truncate text={post.platform_post_id} className="max-w-36 font-mono text-xs" /> : "—"}
                  {link ? (
                    <a href={link} target="_blank" rel="noopener noreferrer" className="mt-1 inline-block text-sm whitespace-nowrap">
                      {fmt(pp.open, { platform })}
                      <span className="sr-only"> {pp.newTab}</span>
                      <span aria-hidden="true"> ↗</span>
                    </a>
                  ) : null}
                </td>
                <td className="text-xs whitespace-nowrap text-slate-700" data-label={pp.dates}>
                  <div>{fmt(pp.created, { date: formatDate(post.created_at, tz, lang) })}</div>
                  {post.published_at ? (
                    <div>{fmt(pp.published, { date: formatDate(post.published_at, tz, lang) })}</div>
                  ) : post.not_before ? (
                    <div>{fmt(pp.notBefore, { date: formatDate(post.not_before, tz, lang) })}</div>
                  ) : null}
                </td>
                {retry ? (
                  <td className={canRetry ? "" : "cards-hide"}>
                    {canRetry ? (
                      <SubmitButton name="one" value={post.id} className={`${btnSecondary} whitespace-nowrap`}>
                        {pp.retry}
                        <span className="sr-only">
                          {" "}
                          ({platform}: {title})
                        </span>
                      </SubmitButton>
                    ) : null}
                  </td>
                ) : null}
              </tr>
            );
          })}
        </tbody>
      </table>
    </ScrollTable>
  );
}
