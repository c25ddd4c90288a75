import Link from "next/link";
import { PageHeader } from "@/components/PageHeader";
import { PostsTable } from "@/components/PostsTable";
import { panel } from "@/components/ui";
import { getTenant } from "@/lib/api/account";
import { listPosts } from "@/lib/api/articles";
import { getDict } from "@/lib/i18n";

export const dynamic = "force-dynamic";

export default async function PostsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | undefined>>;
}) {
  const sp = await searchParams;
  const [{ t, lang }, tenant, page] = await Promise.all([getDict(), getTenant(), listPosts({ cursor: sp.cursor })]);
  return (
    <>
      <PageHeader title={t.posts.title} />
      <div className={panel}>
        {page.items.length === 0 ? (
          <p className="text-sm text-slate-700">{t.posts.empty}</p>
        ) : (
          <PostsTable posts={page.items} t={t} lang={lang} tz={tenant.timezone} showArticle />
        )}
        {page.next_cursor ? (
          <p className="mt-4">
            <Link href={`/posts?cursor=${encodeURIComponent(page.next_cursor)}`}>{t.common.more}</Link>
          </p>
        ) : null}
      </div>
    </>
  );
}
