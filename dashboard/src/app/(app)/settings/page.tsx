import { updateTenant } from "@/app/actions/admin";
import { ActionForm } from "@/components/ActionForm";
import { Field } from "@/components/Field";
import { PageHeader } from "@/components/PageHeader";
import { SubmitButton } from "@/components/SubmitButton";
import { panel } from "@/components/ui";
import { can, getMe, getTenant } from "@/lib/api/account";
import { getDict } from "@/lib/i18n";
import { planName } from "@/lib/plan-limits";
import { timeZones } from "@/lib/zones";

export const dynamic = "force-dynamic";

export default async function SettingsPage() {
  const [{ t }, me, tenant] = await Promise.all([getDict(), getMe(), getTenant()]);
  const s = t.settings;
  const admin = can(me.role, "admin");
  return (
    <>
      <PageHeader title={s.title} />
      <section aria-labelledby="tenant-h" className={panel}>
        <h2 id="tenant-h" className="sr-only">
          {s.title}
        </h2>
        {admin ? (
          <ActionForm action={updateTenant} className="max-w-md space-y-4">
            <Field id="t-name" name="name" label={s.company} defaultValue={tenant.name} required maxLength={200} />
            <Field
              id="t-timezone"
              name="timezone"
              label={s.timezone}
              hint={s.timezoneHint}
              defaultValue={tenant.timezone}
              list="tz-list"
              required
            />
            <datalist id="tz-list">
              {timeZones().map((z) => (
                <option key={z} value={z} />
              ))}
            </datalist>
            <SubmitButton>{t.common.save}</SubmitButton>
          </ActionForm>
        ) : (
          <>
            <p className="mb-4 text-sm text-slate-700">{t.common.readOnly}</p>
            <dl className="space-y-2 text-sm">
              <div>
                <dt className="text-slate-600">{s.company}</dt>
                <dd>{tenant.name}</dd>
              </div>
              <div>
                <dt className="text-slate-600">{s.timezone}</dt>
                <dd>{tenant.timezone}</dd>
              </div>
            </dl>
          </>
        )}
        <dl className="mt-6 text-sm">
          <dt className="text-slate-600">{s.plan}</dt>
          <dd>{planName(tenant.plan, t)}</dd>
        </dl>
      </section>
    </>
  );
}
