import { disconnect, startOAuth } from "@/app/actions/accounts";
import { ActionForm } from "@/components/ActionForm";
import { Notice } from "@/components/Messages";
import { PageHeader } from "@/components/PageHeader";
import { StatusBadge } from "@/components/StatusBadge";
import { SubmitButton } from "@/components/SubmitButton";
import { btnDanger, btnSecondary, panel } from "@/components/ui";
import { can, getMe, getTenant } from "@/lib/api/account";
import { isOAuthPlatform, OAUTH_PLATFORMS } from "@/lib/api/oauth";
import { listCredentials } from "@/lib/api/settings";
import { formatDate } from "@/lib/format";
import { fmt, getDict } from "@/lib/i18n";
import { ScrollTable } from "@/components/ScrollTable";

export const dynamic = "force-dynamic";

export default async function AccountsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | undefined>>;
}) {
  const sp = await searchParams;
  const [{ t, lang }, me, tenant, creds] = await Promise.all([getDict(), getMe(), getTenant(), listCredentials()]);
  const ac = t.accounts;
  const editor = can(me.role, "editor");
  const admin = can(me.role, "admin");
  return (
    <>
      <PageHeader title={ac.title} />
      {sp.connected ? (
        <div className="mb-4">
          <Notice>{fmt(ac.connected, { accounts: sp.connected })}</Notice>
        </div>
      ) : null}
      <p className="mb-4 text-sm text-slate-700">{ac.intro}</p>
      {editor ? (
        <div className="mb-6 flex flex-wrap gap-2">
          {OAUTH_PLATFORMS.map((platform) => (
            <ActionForm key={platform} action={startOAuth.bind(null, platform)}>
              <SubmitButton>{fmt(ac.connect, { platform: t.platforms[platform] })}</SubmitButton>
            </ActionForm>
          ))}
        </div>
      ) : (
        <p className="mb-4 text-sm text-slate-700">{t.common.readOnly}</p>
      )}
      <div className={panel}>
        {creds.length === 0 ? (
          <p className="text-sm text-slate-700">{ac.empty}</p>
        ) : (
          <ScrollTable label={t.common.tableLabel.replace("{name}", ac.title)}>
            <table data-testid="accounts">
              <thead>
                <tr>
                  <th scope="col">{t.common.platform}</th>
                  <th scope="col">{t.common.account}</th>
                  <th scope="col">{t.common.status}</th>
                  <th scope="col">{ac.expires}</th>
                  <th scope="col">{t.common.actions}</th>
                </tr>
              </thead>
              <tbody>
                {creds.map((c) => (
                  <tr key={c.id}>
                    <td>{t.platforms[c.platform] ?? c.platform}</td>
                    <td>
                      <div>{c.account_name || c.account_id}</div>
                      <div className="font-mono text-xs break-all text-slate-600">{c.account_id}</div>
                    </td>
                    <td>
                      <StatusBadge status={c.status} labels={t.status} />
                      {c.status_reason ? <p className="mt-1 text-xs text-slate-700">{c.status_reason}</p> : null}
                    </td>
                    <td className="whitespace-nowrap">
                      {c.expires_at ? formatDate(c.expires_at, tenant.timezone, lang) : ac.noExpiry}
                    </td>
                    <td>
                      <div className="flex flex-wrap gap-2">
                        {editor && isOAuthPlatform(c.platform) && c.status !== "active" ? (
                          <ActionForm action={startOAuth.bind(null, c.platform)}>
                            <SubmitButton>{ac.reconnect}</SubmitButton>
                          </ActionForm>
                        ) : null}
                        {admin ? (
                          <details>
                            <summary className={`${btnSecondary} cursor-pointer list-none`}>{ac.disconnect}</summary>
                            <p className="mt-2 max-w-xs text-xs text-slate-700">{ac.disconnectConfirm}</p>
                            <ActionForm action={disconnect.bind(null, c.id)} className="mt-2">
                              <SubmitButton className={btnDanger}>{t.common.confirmDelete}</SubmitButton>
                            </ActionForm>
                          </details>
                        ) : null}
                      </div>
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
