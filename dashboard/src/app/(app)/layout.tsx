import { logout } from "@/app/actions/session";
import { LangSwitch } from "@/components/LangSwitch";
import { NavLinks, type NavItem } from "@/components/NavLinks";
import { can, getMe, getTenant } from "@/lib/api/account";
import { countAwaitingApproval } from "@/lib/api/articles";
import { accessToken } from "@/lib/api/client";
import { toLogin } from "@/lib/api/errors";
import { formatNumber } from "@/lib/format";
import { fmt, getDict } from "@/lib/i18n";

export const dynamic = "force-dynamic";

export default async function AppLayout({ children }: { children: React.ReactNode }) {
  if (!(await accessToken())) await toLogin(false);
  const [{ t, lang }, me, tenant, awaiting] = await Promise.all([
    getDict(),
    getMe(),
    getTenant(),
    countAwaitingApproval(),
  ]);
  const roleLabel = { admin: t.users.roleAdmin, editor: t.users.roleEditor, viewer: t.users.roleViewer }[
    me.role as "admin" | "editor" | "viewer"
  ];
  const items: NavItem[] = [
    { href: "/", label: t.nav.overview },
    { href: "/pipelines", label: t.nav.pipelines },
    {
      href: "/articles",
      label: t.nav.articles,
      badge: awaiting?.n
        ? {
            text: `${formatNumber(awaiting.n, lang)}${awaiting.more ? "+" : ""}`,
            label: fmt(t.approvals.badge, { n: `${formatNumber(awaiting.n, lang)}${awaiting.more ? "+" : ""}` }),
          }
        : undefined,
    },
    { href: "/posts", label: t.nav.posts },
    { href: "/calendar", label: t.nav.calendar },
    { href: "/analytics", label: t.nav.analytics },
    { href: "/accounts", label: t.nav.accounts },
    { href: "/model-keys", label: t.nav.modelKeys },
    { href: "/webhooks", label: t.nav.webhooks },
    ...(can(me.role, "admin")
      ? [
          { href: "/api-keys", label: t.nav.apiKeys },
          { href: "/users", label: t.nav.users },
        ]
      : []),
    { href: "/settings", label: t.nav.settings },
  ];
  return (
    <div className="flex min-h-screen flex-col">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2"
      >
        {t.app.skip}
      </a>
      <header className="bg-white">
        <div className="mx-auto flex max-w-6xl flex-wrap items-center justify-between gap-2 px-4 py-3 sm:px-8">
          <div className="min-w-0">
            <span className="text-lg font-bold text-blue-800">{t.app.name}</span>
            <span className="ml-2 truncate text-sm text-slate-700">{tenant.name}</span>
          </div>
          <div className="flex items-center gap-2">
            <span className="hidden text-xs text-slate-600 sm:inline">
              {fmt(t.app.signedInAs, { role: roleLabel ?? me.role })} · {fmt(t.app.timezoneNote, { tz: tenant.timezone })}
            </span>
            <LangSwitch t={t} />
            <form action={logout}>
              <button
                type="submit"
                className="rounded-md border border-slate-400 bg-white px-3 py-1.5 text-sm text-slate-900 hover:bg-slate-100"
              >
                {t.app.logout}
              </button>
            </form>
          </div>
        </div>
      </header>
      <NavLinks items={items} label={t.app.mainNav} />
      <main id="main" tabIndex={-1} className="mx-auto w-full max-w-6xl flex-1 px-4 py-6 sm:px-8">
        {children}
      </main>
    </div>
  );
}
