import Link from "next/link";
import { PageHeader } from "@/components/PageHeader";
import { StatusBadge } from "@/components/StatusBadge";
import { panel } from "@/components/ui";
import { getTenant } from "@/lib/api/account";
import { listArticles } from "@/lib/api/articles";
import type { ArticleStatus } from "@/lib/api/types";
import { formatDate } from "@/lib/format";
import { getDict } from "@/lib/i18n";
import { ScrollTable } from "@/components/ScrollTable";

export const dynamic = "force-dynamic";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export default async function ArticlesPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | undefined>>;
}) {
  const sp = await searchParams;
  const status = sp.status === "awaiting_approval" ? ("awaiting_approval" as ArticleStatus) : undefined;
  const runId = sp.run_id && UUID.test(sp.run_id) ? sp.run_id : undefined;
  const [{ t, lang }, tenant, page] = await Promise.all([
    getDict(),
    getTenant(),
    listArticles({ status, run_id: runId, cursor: sp.cursor }),
  ]);
  const a = t.articles;
  const base = (extra: Record<string, string | undefined>) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries({ run_id: runId, ...extra })) if (v) q.set(k, v);
    const s = q.toString();
    return s ? `/articles?${s}` : "/articles";
  };
  return (
    <>
      <PageHeader title={a.title} />
      <nav aria-label={a.filter} className="mb-4 flex flex-wrap gap-2 text-sm">
        <Link href={base({})} aria-current={!status ? "page" : undefined} className="rounded-md border border-slate-300 bg-white px-3 py-1.5 no-underline aria-[current=page]:bg-blue-700 aria-[current=page]:text-white">
          {a.all}
        </Link>
        <Link
          href={base({ status: "awaiting_approval" })}
          aria-current={status ? "page" : undefined}
          className="rounded-md border border-slate-300 bg-white px-3 py-1.5 no-underline aria-[current=page]:bg-blue-700 aria-[current=page]:text-white"
        >
          {a.awaiting}
        </Link>
      </nav>
      <div className={panel}>
        {page.items.length === 0 ? (
          <p className="text-sm text-slate-700">{a.empty}</p>
        ) : (
          <ScrollTable label={t.common.tableLabel.replace("{name}", a.title)}>
            <table>
              <thead>
                <tr>
                  <th scope="col">{t.pipelines.name}</th>
                  <th scope="col">{t.common.status}</th>
                  <th scope="col">{t.common.language}</th>
                  <th scope="col">{a.mode}</th>
                  <th scope="col">{t.common.created}</th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((x) => (
                  <tr key={x.id}>
                    <td className="min-w-48">
                      <Link href={`/articles/${x.id}`}>{x.title || x.id}</Link>
                    </td>
                    <td>
                      <StatusBadge status={x.status} labels={t.status} />
                    </td>
                    <td>{x.language}</td>
                    <td>{x.mode === "merge" ? a.merge : a.compare}</td>
                    <td className="whitespace-nowrap">{formatDate(x.created_at, tenant.timezone, lang)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollTable>
        )}
        {page.next_cursor ? (
          <p className="mt-4">
            <Link href={base({ status, cursor: page.next_cursor })}>{t.common.more}</Link>
          </p>
        ) : null}
      </div>
    </>
  );
}
