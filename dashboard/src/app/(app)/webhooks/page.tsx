import Link from "next/link";
import { createWebhook } from "@/app/actions/admin";
import { ActionForm } from "@/components/ActionForm";
import { Field } from "@/components/Field";
import { PageHeader } from "@/components/PageHeader";
import { SubmitButton } from "@/components/SubmitButton";
import { panel } from "@/components/ui";
import { can, getMe } from "@/lib/api/account";
import { listWebhooks } from "@/lib/api/settings";
import { getDict } from "@/lib/i18n";
import { ScrollTable } from "@/components/ScrollTable";

export const dynamic = "force-dynamic";

export default async function WebhooksPage() {
  const [{ t }, me, hooks] = await Promise.all([getDict(), getMe(), listWebhooks()]);
  const w = t.webhooks;
  return (
    <>
      <PageHeader title={w.title} />
      {can(me.role, "admin") ? (
        <section aria-labelledby="add-h" className={`${panel} mb-4`}>
          <h2 id="add-h">{w.add}</h2>
          <ActionForm action={createWebhook} className="mt-3 grid gap-3 md:grid-cols-2" secretLabel={w.secretOnce}>
            <Field id="wh-url" name="url" type="url" label={w.url} required placeholder="https://" />
            <Field id="wh-description" name="description" label={w.description} maxLength={500} />
            <Field
              id="wh-types"
              name="event_types"
              label={w.eventTypes}
              hint={w.eventTypesHint}
              className="md:col-span-2"
            />
            <div className="md:col-span-2">
              <SubmitButton>{w.add}</SubmitButton>
            </div>
          </ActionForm>
        </section>
      ) : null}
      <div className={panel}>
        {hooks.length === 0 ? (
          <p className="text-sm text-slate-700">{w.empty}</p>
        ) : (
          <ScrollTable label={t.common.tableLabel.replace("{name}", w.title)}>
            <table>
              <thead>
                <tr>
                  <th scope="col">{w.url}</th>
                  <th scope="col">{w.eventTypes}</th>
                  <th scope="col">{t.common.status}</th>
                  <th scope="col">{w.failures}</th>
                  <th scope="col">
                    <span className="sr-only">{t.common.actions}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {hooks.map((h) => (
                  <tr key={h.id}>
                    <td className="break-all">
                      {h.url}
                      {h.description ? <div className="text-xs text-slate-600">{h.description}</div> : null}
                    </td>
                    <td className="text-xs">{h.event_types.length ? h.event_types.join(", ") : w.allEvents}</td>
                    <td>
                      {h.enabled ? w.enabled : w.disabled}
                      {h.disabled_reason ? <div className="text-xs text-red-800">{h.disabled_reason}</div> : null}
                    </td>
                    <td>{h.consecutive_failures}</td>
                    <td>
                      <Link href={`/webhooks/${h.id}`}>{w.deliveries}</Link>
                    </td>
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
