import { disconnect, startOAuth } from "@/app/actions/accounts";
import { connectNewAccount } from "@/app/actions/plan-limits";
import { ActionForm } from "@/components/ActionForm";
import { Notice } from "@/components/Messages";
import { PageHeader } from "@/components/PageHeader";
import { StatusBadge } from "@/components/StatusBadge";
import { SubmitButton } from "@/components/SubmitButton";
import { btn, btnDanger, btnSecondary, panel } from "@/components/ui";
import { can, getMe, getTenant } from "@/lib/api/account";
import { isOAuthPlatform, OAUTH_PLATFORMS } from "@/lib/api/oauth";
import { getUsage } from "@/lib/api/overview";
import { listCredentials } from "@/lib/api/settings";
import { accountLimit } from "@/lib/plan-limits";
import { formatDate } from "@/lib/format";
import { fmt, getDict } from "@/lib/i18n";
import { ScrollTable } from "@/components/ScrollTable";
import { Truncate } from "@/components/Truncate";

export const dynamic = "force-dynamic";

export default async function AccountsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | undefined>>;
}) {
  const sp = await searchParams;
  const [{ t, lang }, me, tenant, creds, usage] = await Promise.all([
    getDict(),
    getMe(),
    getTenant(),
    listCredentials(),
    getUsage(),
  ]);
  const ac = t.accounts;
  const editor = can(me.role, "editor");
  // the plan's account limit, said before the platform's consent page rather than after it
  const limit = accountLimit(usage, t, lang);
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
        <div className="mb-6">
          <p
            id="plan-limit"
            className={`mb-3 text-sm ${limit.full ? "rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-amber-950" : "text-slate-700"}`}
          >
            {limit.message}
            {limit.full && creds.some((c) => c.status !== "active") ? ` ${t.planLimits.reconnectOk}` : null}
          </p>
          <div className="flex flex-wrap gap-2">
            {OAUTH_PLATFORMS.map((platform) =>
              limit.full ? (
                <button key={platform} type="button" disabled aria-describedby="plan-limit" className={btn}>
                  {fmt(ac.connect, { platform: t.platforms[platform] })}
                </button>
              ) : (
                <ActionForm key={platform} action={connectNewAccount.bind(null, platform)}>
                  <SubmitButton>{fmt(ac.connect, { platform: t.platforms[platform] })}</SubmitButton>
                </ActionForm>
              ),
            )}
          </div>
        </div>
      ) : (
        <p className="mb-4 text-sm text-slate-700">{t.common.readOnly}</p>
      )}
      <div className={panel}>
        {creds.length === 0 ? (
          <p className="text-sm text-slate-700">{ac.empty}</p>
        ) : (
          <ScrollTable label={t.common.tableLabel.replace("{name}", ac.title)} cards>
            <table data-testid="accounts" className="cards">
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
                    <td data-label={t.common.platform}>{t.platforms[c.platform] ?? c.platform}</td>
                    <td data-label={t.common.account}>
                      <div>{c.account_name || c.account_id}</div>
                      <Truncate text={c.account_id} className="max-w-48 font-mono text-xs text-slate-600" />
                    </td>
                    <td data-label={t.common.status}>
                      <StatusBadge status={c.status} labels={t.status} />
                      {c.status_reason ? <p className="mt-1 text-xs text-slate-700">{c.status_reason}</p> : null}
                    </td>
                    <td className="whitespace-nowrap" data-label={ac.expires}>
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
