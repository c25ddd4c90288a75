import { notFound } from "next/navigation";
import { connectGoogleFrom } from "@/app/actions/accounts";
import { createPipeline } from "@/app/actions/pipelines";
import { Notice } from "@/components/Messages";
import { PageHeader } from "@/components/PageHeader";
import { PipelineForm } from "@/components/pipeline/PipelineForm";
import { can, getMe, getTenant } from "@/lib/api/account";
import { googleForForm } from "@/lib/api/plan-source";
import { listCredentials, listModelKeys } from "@/lib/api/settings";
import { fmt, getDict } from "@/lib/i18n";
import { timeZones } from "@/lib/zones";

export const dynamic = "force-dynamic";

export default async function NewPipelinePage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | undefined>>;
}) {
  const sp = await searchParams;
  const [{ t, lang }, me, tenant, accounts, modelKeys, { google, firstPage }] = await Promise.all([
    getDict(),
    getMe(),
    getTenant(),
    listCredentials(),
    listModelKeys(),
    googleForForm(),
  ]);
  if (!can(me.role, "editor")) notFound();
  return (
    <>
      <PageHeader title={t.pipelines.newTitle} />
      {sp.connected ? (
        <div className="mb-4">
          <Notice>{fmt(t.accounts.connected, { accounts: sp.connected })}</Notice>
        </div>
      ) : null}
      <PipelineForm
        action={createPipeline}
        accounts={accounts}
        modelKeys={modelKeys}
        google={google}
        firstPage={firstPage}
        connectGoogle={connectGoogleFrom.bind(null, "/pipelines/new")}
        connectError={sp.google_error}
        t={t}
        lang={lang}
        defaultTimezone={tenant.timezone}
        zones={timeZones()}
      />
    </>
  );
}
