import type { Metadata } from "next";
import Link from "next/link";
import { login } from "@/app/actions/session";
import { ActionForm } from "@/components/ActionForm";
import { Field } from "@/components/Field";
import { ErrorMessage, Notice } from "@/components/Messages";
import { SubmitButton } from "@/components/SubmitButton";
import { panel } from "@/components/ui";
import { getDict } from "@/lib/i18n";
import { safeNext } from "@/lib/next-path";

export const metadata: Metadata = { title: "Log in" };

export default async function LoginPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | undefined>>;
}) {
  const { t } = await getDict();
  const sp = await searchParams;
  return (
    <div className={panel}>
      <h1>{t.auth.loginTitle}</h1>
      <div className="mt-4 space-y-2">
        {sp.expired ? <ErrorMessage>{t.auth.expired}</ErrorMessage> : null}
        {sp.logged_out ? <Notice>{t.auth.loggedOut}</Notice> : null}
      </div>
      <ActionForm action={login} className="mt-4 space-y-4">
        <input type="hidden" name="next" value={safeNext(sp.next)} />
        <Field id="email" name="email" type="email" label={t.auth.email} autoComplete="email" required />
        <Field
          id="password"
          name="password"
          type="password"
          label={t.auth.password}
          autoComplete="current-password"
          required
        />
        <SubmitButton className="w-full rounded-md bg-blue-700 px-4 py-2 text-sm font-medium text-white hover:bg-blue-800 disabled:opacity-60">
          {t.auth.login}
        </SubmitButton>
      </ActionForm>
      <p className="mt-6 text-sm text-slate-700">
        {t.auth.noAccount} <Link href="/signup">{t.auth.createAccount}</Link>
      </p>
    </div>
  );
}
