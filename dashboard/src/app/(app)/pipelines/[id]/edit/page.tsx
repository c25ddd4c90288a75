import { notFound } from "next/navigation";
import { connectGoogleFrom } from "@/app/actions/accounts";
import { updatePipeline } from "@/app/actions/pipelines";
import { Notice } from "@/components/Messages";
import { PageHeader } from "@/components/PageHeader";
import { PipelineForm } from "@/components/pipeline/PipelineForm";
import { can, getMe, getTenant } from "@/lib/api/account";
import { getPipeline } from "@/lib/api/pipelines";
import { googleForForm } from "@/lib/api/plan-source";
import { listCredentials, listModelKeys } from "@/lib/api/settings";
import { fmt, getDict } from "@/lib/i18n";
import { timeZones } from "@/lib/zones";

export const dynamic = "force-dynamic";

export default async function EditPipelinePage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<Record<string, string | undefined>>;
}) {
  const { id } = await params;
  const sp = await searchParams;
  const [{ t, lang }, me, tenant, pipeline, accounts, modelKeys, { google, firstPage }] = await Promise.all([
    getDict(),
    getMe(),
    getTenant(),
    getPipeline(id),
    listCredentials(),
    listModelKeys(),
    googleForForm(),
  ]);
  if (!can(me.role, "editor")) notFound();
  const current = {
    plan_object_key: pipeline.plan_object_key ?? null,
    source_kind: pipeline.source_kind ?? "sheet",
    settings: pipeline.settings ?? {},
  };
  return (
    <>
      <PageHeader title={`${t.pipelines.editTitle}: ${pipeline.name}`} />
      {sp.connected ? (
        <div className="mb-4">
          <Notice>{fmt(t.accounts.connected, { accounts: sp.connected })}</Notice>
        </div>
      ) : null}
      <PipelineForm
        action={updatePipeline.bind(null, pipeline.id, current)}
        pipeline={pipeline}
        accounts={accounts}
        modelKeys={modelKeys}
        google={google}
        firstPage={firstPage}
        connectGoogle={connectGoogleFrom.bind(null, `/pipelines/${pipeline.id}/edit`)}
        connectError={sp.google_error}
        t={t}
        lang={lang}
        defaultTimezone={tenant.timezone}
        zones={timeZones()}
      />
    </>
  );
}
