import { deleteModelKey, resumeModelKey, setModelKey } from "@/app/actions/modelkeys";
import { ActionForm } from "@/components/ActionForm";
import { Field } from "@/components/Field";
import { PageHeader } from "@/components/PageHeader";
import { Reason } from "@/components/Reason";
import { StatusBadge } from "@/components/StatusBadge";
import { SubmitButton } from "@/components/SubmitButton";
import { btnDanger, btnSecondary, panel } from "@/components/ui";
import { can, getMe, getTenant } from "@/lib/api/account";
import { listModelKeys } from "@/lib/api/settings";
import type { ModelKey } from "@/lib/api/types";
import { formatDate, type Locale } from "@/lib/format";
import { fmt, getDict, type Dict } from "@/lib/i18n";
import { modelKeyReason } from "@/lib/problems";
import { VENDOR_NAMES, writerName } from "@/lib/writers";

export const dynamic = "force-dynamic";

/** The tenant's own model keys, one card per provider: its state and why it is paused, and (admins) set,
 * replace, resume or delete it. */
export default async function ModelKeysPage() {
  const [{ t, lang }, me, tenant, keys] = await Promise.all([getDict(), getMe(), getTenant(), listModelKeys()]);
  const m = t.modelKeys;
  const admin = can(me.role, "admin");
  return (
    <>
      <PageHeader title={m.title} />
      <p className="mb-4 max-w-3xl text-sm text-slate-700">{m.intro}</p>
      {admin ? null : <p className="mb-4 text-sm text-slate-700">{m.adminOnly}</p>}
      <div className="grid gap-4 lg:grid-cols-3">
        {keys.map((k) => (
          <KeyCard key={k.provider} k={k} admin={admin} t={t} lang={lang} tz={tenant.timezone} />
        ))}
      </div>
    </>
  );
}

function KeyCard({ k, admin, t, lang, tz }: { k: ModelKey; admin: boolean; t: Dict; lang: Locale; tz: string }) {
  const m = t.modelKeys;
  const writer = writerName(k.provider);
  const vendor = VENDOR_NAMES[k.provider] ?? k.provider;
  const labels = { not_set: m.stateNotSet, active: m.stateActive, paused: m.statePaused };
  const id = `key-${k.provider}`;
  return (
    <section aria-labelledby={`${id}-h`} className={panel} data-testid={id}>
      <div className="flex items-center justify-between gap-2">
        <h2 id={`${id}-h`}>
          {writer} <span className="text-sm font-normal text-slate-600">({vendor})</span>
        </h2>
        <StatusBadge status={k.state ?? "not_set"} labels={labels} />
      </div>
      {k.pause ? (
        <div className="mt-3 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-950" data-testid={`${id}-pause`}>
          <p className="font-medium">{fmt(m.pausedSince, { date: formatDate(k.pause.since, tz, lang) })}</p>
          <Reason said={modelKeyReason(k.pause, t)} t={t} />
        </div>
      ) : null}
      <dl className="mt-3 space-y-1 text-sm">
        <div className="flex gap-2">
          <dt className="text-slate-600">{m.key}</dt>
          <dd className="font-mono">{k.last4 ? fmt(m.ending, { last4: k.last4 }) : "—"}</dd>
        </div>
        {k.added_at ? (
          <div className="flex gap-2">
            <dt className="text-slate-600">{m.added}</dt>
            <dd>{formatDate(k.added_at, tz, lang)}</dd>
          </div>
        ) : null}
        {k.last4 ? (
          <div className="flex gap-2">
            <dt className="text-slate-600">{m.checked}</dt>
            <dd>{k.verified_at ? formatDate(k.verified_at, tz, lang) : m.notChecked}</dd>
          </div>
        ) : null}
        {k.last_error && !k.pause ? (
          <div>
            <dt className="text-slate-600">
              {m.lastError} ({formatDate(k.last_error_at, tz, lang)})
            </dt>
            <dd lang="en" className="text-xs text-slate-700">
              {k.last_error}
            </dd>
          </div>
        ) : null}
      </dl>
      {admin ? (
        <div className="mt-4 space-y-3">
          {k.pause ? (
            <ActionForm action={resumeModelKey.bind(null, k.provider)}>
              <p className="mb-2 text-xs text-slate-700">{fmt(m.resumeHint, { writer, vendor })}</p>
              <SubmitButton>{m.resume}</SubmitButton>
            </ActionForm>
          ) : null}
          <ActionForm action={setModelKey.bind(null, k.provider)} className="space-y-2">
            <Field
              id={`${id}-input`}
              name="key"
              type="password"
              autoComplete="off"
              label={fmt(m.keyLabel, { writer, vendor })}
              hint={m.keyHint}
              required
              minLength={8}
              maxLength={512}
            />
            <label className="flex items-start gap-2 text-sm">
              <input type="checkbox" name="verify" defaultChecked className="mt-1" />
              {fmt(m.verify, { vendor })}
            </label>
            <SubmitButton>{m.set}</SubmitButton>
          </ActionForm>
          {k.last4 ? (
            <details>
              <summary className={`${btnSecondary} cursor-pointer list-none`}>{m.remove}</summary>
              <p className="mt-2 text-xs text-slate-700">{fmt(m.removeConfirm, { writer })}</p>
              <ActionForm action={deleteModelKey.bind(null, k.provider)} className="mt-2">
                <SubmitButton className={btnDanger}>{t.common.confirmDelete}</SubmitButton>
              </ActionForm>
            </details>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
