import Link from "next/link";
import { PageHeader } from "@/components/PageHeader";
import { StatusBadge } from "@/components/StatusBadge";
import { btn, panel } from "@/components/ui";
import { can, getMe } from "@/lib/api/account";
import { listPipelines } from "@/lib/api/pipelines";
import { getDict } from "@/lib/i18n";
import { ScrollTable } from "@/components/ScrollTable";

export const dynamic = "force-dynamic";

export default async function PipelinesPage() {
  const [{ t }, me, pipelines] = await Promise.all([getDict(), getMe(), listPipelines()]);
  const p = t.pipelines;
  return (
    <>
      <PageHeader title={p.title}>
        {can(me.role, "editor") ? (
          <Link href="/pipelines/new" className={btn}>
            {p.new}
          </Link>
        ) : null}
      </PageHeader>
      <div className={panel}>
        {pipelines.length === 0 ? (
          <p className="text-sm text-slate-700">{p.empty}</p>
        ) : (
          <ScrollTable label={t.common.tableLabel.replace("{name}", p.title)} cards>
            <table className="cards">
              <thead>
                <tr>
                  <th scope="col">{p.name}</th>
                  <th scope="col">{t.common.status}</th>
                  <th scope="col">{p.source}</th>
                  <th scope="col">{p.schedule}</th>
                  <th scope="col">{p.mode}</th>
                </tr>
              </thead>
              <tbody>
                {pipelines.map((x) => (
                  <tr key={x.id}>
                    <td data-label={p.name}>
                      <Link href={`/pipelines/${x.id}`}>{x.name}</Link>
                    </td>
                    <td data-label={t.common.status}>
                      <StatusBadge status={x.status ?? "active"} labels={t.status} />
                    </td>
                    <td data-label={p.source}>{x.source_kind === "xlsx" ? p.sourceXlsx : x.source_kind === "csv" ? p.sourceCsv : p.sourceSheet}</td>
                    <td className="font-mono text-xs" data-label={p.schedule}>
                      {x.cron ? `${x.cron} (${x.timezone})` : <span className="font-sans">{p.noSchedule}</span>}
                    </td>
                    <td data-label={p.mode}>{x.mode === "merge" ? t.articles.merge : t.articles.compare}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollTable>
        )}
      </div>
    </>
  );
}
