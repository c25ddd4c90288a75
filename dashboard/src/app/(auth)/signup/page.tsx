import type { Metadata } from "next";
import Link from "next/link";
import { signup } from "@/app/actions/session";
import { ActionForm } from "@/components/ActionForm";
import { Field } from "@/components/Field";
import { SubmitButton } from "@/components/SubmitButton";
import { panel } from "@/components/ui";
import { getDict } from "@/lib/i18n";

export const metadata: Metadata = { title: "Sign up" };

export default async function SignupPage() {
  const { t } = await getDict();
  return (
    <div className={panel}>
      <h1>{t.auth.signupTitle}</h1>
      <ActionForm action={signup} className="mt-4 space-y-4">
        <Field id="company_name" name="company_name" label={t.auth.companyName} autoComplete="organization" required />
        <Field id="display_name" name="display_name" label={t.auth.displayName} autoComplete="name" />
        <Field id="email" name="email" type="email" label={t.auth.email} autoComplete="email" required />
        <Field
          id="password"
          name="password"
          type="password"
          label={t.auth.password}
          hint={t.auth.passwordHint}
          autoComplete="new-password"
          minLength={10}
          required
        />
        <p className="text-sm text-slate-700">{t.auth.planNote}</p>
        <SubmitButton className="w-full rounded-md bg-blue-700 px-4 py-2 text-sm font-medium text-white hover:bg-blue-800 disabled:opacity-60">
          {t.auth.signup}
        </SubmitButton>
      </ActionForm>
      <p className="mt-6 text-sm text-slate-700">
        {t.auth.haveAccount} <Link href="/login">{t.auth.login}</Link>
      </p>
    </div>
  );
}
