import { notFound } from "next/navigation";
import { createApiKey, revokeApiKey } from "@/app/actions/admin";
import { ActionForm } from "@/components/ActionForm";
import { Field } from "@/components/Field";
import { PageHeader } from "@/components/PageHeader";
import { StatusBadge } from "@/components/StatusBadge";
import { SubmitButton } from "@/components/SubmitButton";
import { btnDanger, label, panel } from "@/components/ui";
import { can, getMe, getTenant } from "@/lib/api/account";
import { listApiKeys } from "@/lib/api/settings";
import { formatDate } from "@/lib/format";
import { getDict } from "@/lib/i18n";
import { ScrollTable } from "@/components/ScrollTable";

export const dynamic = "force-dynamic";

export default async function ApiKeysPage() {
  const [{ t, lang }, me, tenant] = await Promise.all([getDict(), getMe(), getTenant()]);
  if (!can(me.role, "admin")) notFound();
  const keys = await listApiKeys();
  const k = t.apiKeys;
  const tz = tenant.timezone;
  return (
    <>
      <PageHeader title={k.title} />
      <section aria-labelledby="create-h" className={`${panel} mb-4`}>
        <h2 id="create-h">{k.create}</h2>
        <ActionForm action={createApiKey} className="mt-3 space-y-3" secretLabel={k.shownOnce}>
          <Field id="key-name" name="name" label={k.name} required maxLength={200} className="max-w-md" />
          <fieldset>
            <legend className={label}>{k.scopes}</legend>
            <div className="mt-2 flex gap-4 text-sm">
              <label className="flex items-center gap-2">
                <input type="checkbox" name="scopes" value="read" defaultChecked /> {k.scopeRead}
              </label>
              <label className="flex items-center gap-2">
                <input type="checkbox" name="scopes" value="write" /> {k.scopeWrite}
              </label>
            </div>
          </fieldset>
          <SubmitButton>{k.create}</SubmitButton>
        </ActionForm>
      </section>
      <div className={panel}>
        {keys.length === 0 ? (
          <p className="text-sm text-slate-700">{k.empty}</p>
        ) : (
          <ScrollTable label={t.common.tableLabel.replace("{name}", k.title)}>
            <table>
              <thead>
                <tr>
                  <th scope="col">{k.name}</th>
                  <th scope="col">{k.prefix}</th>
                  <th scope="col">{k.scopes}</th>
                  <th scope="col">{t.common.created}</th>
                  <th scope="col">{k.lastUsed}</th>
                  <th scope="col">{t.common.actions}</th>
                </tr>
              </thead>
              <tbody>
                {keys.map((key) => (
                  <tr key={key.id}>
                    <td>{key.name}</td>
                    <td className="font-mono text-xs">{key.prefix}</td>
                    <td>{key.scopes.join(", ")}</td>
                    <td className="whitespace-nowrap">{formatDate(key.created_at, tz, lang)}</td>
                    <td className="whitespace-nowrap">{key.last_used_at ? formatDate(key.last_used_at, tz, lang) : t.common.never}</td>
                    <td>
                      {key.revoked_at ? (
                        <StatusBadge status="revoked" labels={t.status} />
                      ) : (
                        <ActionForm action={revokeApiKey.bind(null, key.id)}>
                          <SubmitButton className={btnDanger}>{k.revoke}</SubmitButton>
                        </ActionForm>
                      )}
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
