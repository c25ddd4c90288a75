import { notFound } from "next/navigation";
import { updatePipeline } from "@/app/actions/pipelines";
import { PageHeader } from "@/components/PageHeader";
import { PipelineForm } from "@/components/pipeline/PipelineForm";
import { can, getMe, getTenant } from "@/lib/api/account";
import { getPipeline } from "@/lib/api/pipelines";
import { listCredentials } from "@/lib/api/settings";
import { getDict } from "@/lib/i18n";
import { timeZones } from "@/lib/zones";

export const dynamic = "force-dynamic";

export default async function EditPipelinePage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const [{ t, lang }, me, tenant, pipeline, accounts] = await Promise.all([
    getDict(),
    getMe(),
    getTenant(),
    getPipeline(id),
    listCredentials(),
  ]);
  if (!can(me.role, "editor")) notFound();
  return (
    <>
      <PageHeader title={`${t.pipelines.editTitle}: ${pipeline.name}`} />
      <PipelineForm
        action={updatePipeline.bind(null, pipeline.id, pipeline.csv_object_key ?? null)}
        pipeline={pipeline}
        accounts={accounts}
        t={t}
        lang={lang}
        defaultTimezone={tenant.timezone}
        zones={timeZones()}
      />
    </>
  );
}
