import { deleteWebhook, redeliver, setWebhookEnabled } from "@/app/actions/admin";
import { ActionForm } from "@/components/ActionForm";
import { PageHeader } from "@/components/PageHeader";
import { StatusBadge } from "@/components/StatusBadge";
import { SubmitButton } from "@/components/SubmitButton";
import { btnDanger, btnSecondary, panel } from "@/components/ui";
import { can, getMe, getTenant } from "@/lib/api/account";
import { getWebhook, listDeliveries } from "@/lib/api/settings";
import { formatDate } from "@/lib/format";
import { getDict } from "@/lib/i18n";
import { ScrollTable } from "@/components/ScrollTable";

export const dynamic = "force-dynamic";

export default async function WebhookPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const [{ t, lang }, me, tenant, hook] = await Promise.all([getDict(), getMe(), getTenant(), getWebhook(id)]);
  const deliveries = await listDeliveries(hook.id);
  const w = t.webhooks;
  const admin = can(me.role, "admin");
  const editor = can(me.role, "editor");
  return (
    <>
      <PageHeader title={hook.url}>
        {admin ? (
          <ActionForm action={setWebhookEnabled.bind(null, hook.id, !hook.enabled)}>
            <SubmitButton className={btnSecondary}>{hook.enabled ? w.disable : w.enable}</SubmitButton>
          </ActionForm>
        ) : null}
      </PageHeader>
      <p className="-mt-4 mb-4 text-sm text-slate-700">
        {hook.enabled ? w.enabled : w.disabled} · {w.eventTypes}:{" "}
        {hook.event_types.length ? hook.event_types.join(", ") : w.allEvents}
        {hook.disabled_reason ? ` · ${hook.disabled_reason}` : ""}
      </p>
      <section aria-labelledby="deliveries-h" className={panel}>
        <h2 id="deliveries-h">{w.recentDeliveries}</h2>
        {deliveries.items.length === 0 ? (
          <p className="mt-2 text-sm text-slate-700">{w.noDeliveries}</p>
        ) : (
          <ScrollTable label={t.common.tableLabel.replace("{name}", w.recentDeliveries)} className="mt-3">
            <table>
              <thead>
                <tr>
                  <th scope="col">{w.event}</th>
                  <th scope="col">{t.common.status}</th>
                  <th scope="col">{w.attempts}</th>
                  <th scope="col">{w.lastCode}</th>
                  <th scope="col">{w.lastError}</th>
                  <th scope="col">{t.common.created}</th>
                  <th scope="col">
                    <span className="sr-only">{t.common.actions}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {deliveries.items.map((d) => (
                  <tr key={d.id}>
                    <td className="font-mono text-xs">{d.event_type}</td>
                    <td>
                      <StatusBadge status={d.status} labels={t.status} />
                    </td>
                    <td>{d.attempts}</td>
                    <td>{d.last_status_code ?? "—"}</td>
                    <td className="min-w-40 break-words text-red-800">{d.last_error ?? ""}</td>
                    <td className="whitespace-nowrap">{formatDate(d.created_at, tenant.timezone, lang)}</td>
                    <td>
                      {editor && (d.status === "delivered" || d.status === "dead") ? (
                        <ActionForm action={redeliver.bind(null, hook.id, d.id)}>
                          <SubmitButton className={btnSecondary}>{w.redeliver}</SubmitButton>
                        </ActionForm>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollTable>
        )}
      </section>
      {admin ? (
        <section aria-labelledby="wh-danger-h" className={`${panel} mt-4`}>
          <h2 id="wh-danger-h" className="sr-only">
            {w.deleteEndpoint}
          </h2>
          <details>
            <summary className={`${btnSecondary} cursor-pointer list-none`}>{w.deleteEndpoint}</summary>
            <ActionForm action={deleteWebhook.bind(null, hook.id)} className="mt-3">
              <SubmitButton className={btnDanger}>{t.common.confirmDelete}</SubmitButton>
            </ActionForm>
          </details>
        </section>
      ) : null}
    </>
  );
}
