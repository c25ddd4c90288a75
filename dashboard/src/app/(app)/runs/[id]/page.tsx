import Link from "next/link";
import { cancelRun, retryRun } from "@/app/actions/runs";
import { Notice } from "@/components/Messages";
import { PageHeader } from "@/components/PageHeader";
import { RunLive } from "@/components/run/RunLive";
import { can, getMe, getTenant } from "@/lib/api/account";
import { getPipeline } from "@/lib/api/pipelines";
import { runCost } from "@/lib/api/costs";
import { getRun, listRunRows } from "@/lib/api/runs";
import { formatDate } from "@/lib/format";
import { getDict } from "@/lib/i18n";

export const dynamic = "force-dynamic";

export default async function RunPage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<Record<string, string | undefined>>;
}) {
  const { id } = await params;
  const sp = await searchParams;
  const [{ t, lang }, me, tenant, run] = await Promise.all([getDict(), getMe(), getTenant(), getRun(id)]);
  const [pipeline, rows, cost] = await Promise.all([
    getPipeline(run.pipeline_id),
    listRunRows(run.id),
    runCost(run),
  ]);
  return (
    <>
      <PageHeader title={`${t.runs.title}: ${pipeline.name}`} />
      <p className="-mt-4 mb-4 text-sm text-slate-700">
        {t.runs.pipeline}: <Link href={`/pipelines/${pipeline.id}`}>{pipeline.name}</Link> ·{" "}
        {formatDate(run.created_at, tenant.timezone, lang)}
      </p>
      {sp.retried ? (
        <div className="mb-4">
          <Notice>{t.runs.retried}</Notice>
        </div>
      ) : null}
      <RunLive
        initialRun={run}
        initialRows={rows}
        initialCost={cost}
        t={t}
        lang={lang}
        tz={tenant.timezone}
        canEdit={can(me.role, "editor")}
        cancelAction={cancelRun.bind(null, run.id)}
        retryAction={retryRun.bind(null, run.id)}
      />
    </>
  );
}
