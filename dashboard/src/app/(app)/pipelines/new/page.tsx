import { notFound } from "next/navigation";
import { createPipeline } from "@/app/actions/pipelines";
import { PageHeader } from "@/components/PageHeader";
import { PipelineForm } from "@/components/pipeline/PipelineForm";
import { can, getMe, getTenant } from "@/lib/api/account";
import { listCredentials } from "@/lib/api/settings";
import { getDict } from "@/lib/i18n";
import { timeZones } from "@/lib/zones";

export const dynamic = "force-dynamic";

export default async function NewPipelinePage() {
  const [{ t, lang }, me, tenant, accounts] = await Promise.all([getDict(), getMe(), getTenant(), listCredentials()]);
  if (!can(me.role, "editor")) notFound();
  return (
    <>
      <PageHeader title={t.pipelines.newTitle} />
      <PipelineForm
        action={createPipeline}
        accounts={accounts}
        t={t}
        lang={lang}
        defaultTimezone={tenant.timezone}
        zones={timeZones()}
      />
    </>
  );
}
