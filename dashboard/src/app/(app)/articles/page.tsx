import Link from "next/link";
import { approveArticles } from "@/app/actions/bulk";
import { BulkForm } from "@/components/BulkForm";
import { PageHeader } from "@/components/PageHeader";
import { StatusBadge } from "@/components/StatusBadge";
import { panel } from "@/components/ui";
import { can, getMe, getTenant } from "@/lib/api/account";
import { countAwaitingApproval, listArticles } from "@/lib/api/articles";
import type { ArticleStatus } from "@/lib/api/types";
import { formatDate, formatNumber } from "@/lib/format";
import { fmt, getDict } from "@/lib/i18n";
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
  const [{ t, lang }, me, tenant, page, awaiting] = await Promise.all([
    getDict(),
    getMe(),
    getTenant(),
    listArticles({ status, run_id: runId, cursor: sp.cursor }),
    countAwaitingApproval(),
  ]);
  const a = t.articles;
  const ap = t.approvals;
  // editors approve several at once: a box on each article that awaits approval
  const editor = can(me.role, "editor");
  const canApprove = editor && page.items.some((x) => x.status === "awaiting_approval");
  const base = (extra: Record<string, string | undefined>) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries({ run_id: runId, ...extra })) if (v) q.set(k, v);
    const s = q.toString();
    return s ? `/articles?${s}` : "/articles";
  };
  const tab = "rounded-md border border-slate-300 bg-white px-3 py-1.5 no-underline aria-[current=page]:bg-blue-700 aria-[current=page]:text-white";
  const list =
    page.items.length === 0 ? (
      <p className="text-sm text-slate-700">{a.empty}</p>
    ) : (
      <ScrollTable label={t.common.tableLabel.replace("{name}", a.title)} cards>
        <table className="cards">
          <thead>
            <tr>
              {canApprove ? (
                <th scope="col" className="w-10">
                  <span className="sr-only">{ap.select}</span>
                </th>
              ) : null}
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
                {canApprove ? (
                  <td className={x.status === "awaiting_approval" ? "" : "cards-hide"}>
                    {x.status === "awaiting_approval" ? (
                      <input
                        type="checkbox"
                        name="ids"
                        value={x.id}
                        className="h-4 w-4"
                        aria-label={fmt(ap.selectOne, { title: x.title || ap.untitled })}
                      />
                    ) : null}
                  </td>
                ) : null}
                <td className="min-w-48" data-label={t.pipelines.name}>
                  <Link href={`/articles/${x.id}`}>{x.title || ap.untitled}</Link>
                </td>
                <td data-label={t.common.status}>
                  <StatusBadge status={x.status} labels={t.status} />
                </td>
                <td data-label={t.common.language}>{x.language}</td>
                <td data-label={a.mode}>{x.mode === "merge" ? a.merge : a.compare}</td>
                <td className="whitespace-nowrap" data-label={t.common.created}>
                  {formatDate(x.created_at, tenant.timezone, lang)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollTable>
    );
  return (
    <>
      <PageHeader title={a.title} />
      <nav aria-label={a.filter} className="mb-4 flex flex-wrap gap-2 text-sm">
        <Link href={base({})} aria-current={!status ? "page" : undefined} className={tab}>
          {a.all}
        </Link>
        <Link href={base({ status: "awaiting_approval" })} aria-current={status ? "page" : undefined} className={tab}>
          {awaiting?.n
            ? fmt(ap.tab, { n: `${formatNumber(awaiting.n, lang)}${awaiting.more ? "+" : ""}` })
            : a.awaiting}
        </Link>
      </nav>
      <div className={panel}>
        {editor ? (
          // always this form for editors: its outcome stays on screen when the approved articles leave
          <BulkForm
            action={approveArticles}
            tools={canApprove ? { hint: ap.hint, selectAll: ap.selectAll, submit: ap.approveSelected } : null}
          >
            {list}
          </BulkForm>
        ) : (
          list
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
