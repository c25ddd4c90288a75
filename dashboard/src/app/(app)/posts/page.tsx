import Link from "next/link";
import { retryPosts } from "@/app/actions/bulk";
import { BulkForm } from "@/components/BulkForm";
import { PageHeader } from "@/components/PageHeader";
import { PlatformSelect } from "@/components/PlatformSelect";
import { PostsTable } from "@/components/PostsTable";
import { btn, btnSecondary, hint, input, label, panel } from "@/components/ui";
import { can, getMe, getTenant } from "@/lib/api/account";
import { POST_STATUSES, RETRYABLE, postFilters, searchPosts } from "@/lib/api/posts";
import { recentRuns } from "@/lib/api/recent";
import { formatDate } from "@/lib/format";
import { getDict } from "@/lib/i18n";

export const dynamic = "force-dynamic";

export default async function PostsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | undefined>>;
}) {
  const sp = await searchParams;
  const f = postFilters(sp);
  const [{ t, lang }, me, tenant, runs] = await Promise.all([getDict(), getMe(), getTenant(), recentRuns(10)]);
  const tz = tenant.timezone;
  const page = await searchPosts(f, tz, sp.cursor);
  const pp = t.postsPage;
  const filtered = Object.values(f).some(Boolean);
  const editor = can(me.role, "editor");
  const retry = editor && page.items.some((p) => RETRYABLE.includes(p.status));
  const more = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v) more.set(k, v);
  if (page.next_cursor) more.set("cursor", page.next_cursor);
  const runKnown = !f.run_id || runs.some(({ run }) => run.id === f.run_id);
  const select = `${input} mt-1`;
  const list =
    page.items.length === 0 ? (
      <p className="text-sm text-slate-700">{filtered ? pp.noMatch : t.posts.empty}</p>
    ) : (
      <PostsTable posts={page.items} t={t} lang={lang} tz={tz} showArticle retry={retry} />
    );

  return (
    <>
      <PageHeader title={t.posts.title} />
      <form method="get" action="/posts" role="search" aria-label={pp.filters} className={`${panel} mb-4`}>
        <div className="grid grid-cols-2 gap-3 lg:grid-cols-3">
          <div className="col-span-2 lg:col-span-3">
            <label htmlFor="posts-q" className={label}>
              {pp.search}
            </label>
            <input
              id="posts-q"
              name="q"
              type="search"
              maxLength={200}
              defaultValue={f.q ?? ""}
              aria-describedby="posts-q-hint"
              className={`${input} mt-1`}
            />
            <p id="posts-q-hint" className={hint}>
              {pp.searchHint}
            </p>
          </div>
          <div>
            <label htmlFor="posts-status" className={label}>
              {t.common.status}
            </label>
            <select id="posts-status" name="status" defaultValue={f.status ?? ""} className={select}>
              <option value="">{pp.anyStatus}</option>
              {POST_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {t.status[s] ?? s}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label htmlFor="posts-platform" className={label}>
              {t.common.platform}
            </label>
            <PlatformSelect id="posts-platform" value={f.platform} any={pp.anyPlatform} t={t} className={select} />
          </div>
          <div className="col-span-2 lg:col-span-1">
            <label htmlFor="posts-run" className={label}>
              {pp.run}
            </label>
            <select id="posts-run" name="run_id" defaultValue={f.run_id ?? ""} className={select}>
              <option value="">{pp.anyRun}</option>
              {runKnown ? null : <option value={f.run_id}>{pp.thisRun}</option>}
              {runs.map(({ run, pipeline }) => (
                <option key={run.id} value={run.id}>
                  {pipeline.name} · {formatDate(run.created_at, tz, lang)}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label htmlFor="posts-since" className={label}>
              {pp.since}
            </label>
            <input id="posts-since" name="since" type="date" defaultValue={f.since ?? ""} className={select} />
          </div>
          <div>
            <label htmlFor="posts-until" className={label}>
              {pp.until}
            </label>
            <input id="posts-until" name="until" type="date" defaultValue={f.until ?? ""} className={select} />
          </div>
        </div>
        <div className="mt-4 flex flex-wrap gap-2">
          <button type="submit" className={btn}>
            {pp.apply}
          </button>
          {filtered ? (
            <Link href="/posts" className={btnSecondary}>
              {pp.clear}
            </Link>
          ) : null}
        </div>
      </form>
      <div className={panel}>
        {editor ? (
          // always this form for editors: its outcome stays on screen when the retried posts leave the list
          <BulkForm
            action={retryPosts}
            tools={retry ? { hint: pp.retryHint, selectAll: pp.selectAll, submit: pp.retrySelected } : null}
          >
            {list}
          </BulkForm>
        ) : (
          list
        )}
        {page.next_cursor ? (
          <p className="mt-4">
            <Link href={`/posts?${more}`}>{t.common.more}</Link>
          </p>
        ) : null}
      </div>
    </>
  );
}
