import { notFound } from "next/navigation";
import { createUser, updateUser } from "@/app/actions/admin";
import { ActionForm } from "@/components/ActionForm";
import { Field } from "@/components/Field";
import { PageHeader } from "@/components/PageHeader";
import { SubmitButton } from "@/components/SubmitButton";
import { btnSecondary, input, label, panel } from "@/components/ui";
import { can, getMe, getTenant } from "@/lib/api/account";
import { listUsers } from "@/lib/api/settings";
import { formatDate } from "@/lib/format";
import { getDict } from "@/lib/i18n";
import { ScrollTable } from "@/components/ScrollTable";

export const dynamic = "force-dynamic";

export default async function UsersPage() {
  const [{ t, lang }, me, tenant] = await Promise.all([getDict(), getMe(), getTenant()]);
  if (!can(me.role, "admin")) notFound();
  const users = await listUsers();
  const u = t.users;
  const roles = [
    ["admin", u.roleAdmin],
    ["editor", u.roleEditor],
    ["viewer", u.roleViewer],
  ] as const;
  return (
    <>
      <PageHeader title={u.title} />
      <p className="mb-4 text-sm text-slate-700">{u.roleHelp}</p>
      <section aria-labelledby="add-user-h" className={`${panel} mb-4`}>
        <h2 id="add-user-h">{u.add}</h2>
        <ActionForm action={createUser} className="mt-3 grid gap-3 md:grid-cols-2">
          <Field id="u-email" name="email" type="email" label={u.email} required autoComplete="off" />
          <Field id="u-name" name="display_name" label={u.displayName} autoComplete="off" />
          <Field
            id="u-password"
            name="password"
            type="password"
            label={u.password}
            minLength={10}
            required
            autoComplete="new-password"
            hint={t.auth.passwordHint}
          />
          <div>
            <label htmlFor="u-role" className={label}>
              {u.role}
            </label>
            <select id="u-role" name="role" className={`${input} mt-1`} defaultValue="viewer">
              {roles.map(([v, l]) => (
                <option key={v} value={v}>
                  {l}
                </option>
              ))}
            </select>
          </div>
          <div className="md:col-span-2">
            <SubmitButton>{u.add}</SubmitButton>
          </div>
        </ActionForm>
      </section>
      <div className={panel}>
        <ScrollTable label={t.common.tableLabel.replace("{name}", u.title)}>
          <table>
            <thead>
              <tr>
                <th scope="col">{u.displayName}</th>
                <th scope="col">{u.email}</th>
                <th scope="col">{u.role}</th>
                <th scope="col">{u.lastLogin}</th>
                <th scope="col">{t.common.status}</th>
              </tr>
            </thead>
            <tbody>
              {users.map((user) => {
                const self = user.id === me.actor_id;
                return (
                  <tr key={user.id}>
                    <td>
                      {user.display_name || "—"}
                      {self ? <span className="ml-1 text-xs text-slate-600">({u.you})</span> : null}
                    </td>
                    <td className="break-all">{user.email}</td>
                    <td>
                      {self ? (
                        roles.find(([v]) => v === user.role)?.[1]
                      ) : (
                        <ActionForm action={updateUser.bind(null, user.id)} className="flex flex-wrap items-center gap-2">
                          <label htmlFor={`role-${user.id}`} className="sr-only">
                            {u.changeRole}: {user.email}
                          </label>
                          <select id={`role-${user.id}`} name="role" defaultValue={user.role} className={`${input} w-auto`}>
                            {roles.map(([v, l]) => (
                              <option key={v} value={v}>
                                {l}
                              </option>
                            ))}
                          </select>
                          <SubmitButton className={btnSecondary}>{u.changeRole}</SubmitButton>
                        </ActionForm>
                      )}
                    </td>
                    <td className="whitespace-nowrap">
                      {user.last_login_at ? formatDate(user.last_login_at, tenant.timezone, lang) : t.common.never}
                    </td>
                    <td>
                      {self ? (
                        user.disabled ? u.disabled : t.status.active
                      ) : (
                        <ActionForm action={updateUser.bind(null, user.id)}>
                          <input type="hidden" name="disabled" value={user.disabled ? "false" : "true"} />
                          <span className="mr-2 text-sm">{user.disabled ? u.disabled : t.status.active}</span>
                          <SubmitButton className={btnSecondary}>{user.disabled ? u.enable : u.disable}</SubmitButton>
                        </ActionForm>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </ScrollTable>
      </div>
    </>
  );
}
