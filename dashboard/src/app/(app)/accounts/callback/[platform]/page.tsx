import Link from "next/link";
import { notFound } from "next/navigation";
import { finishOAuth } from "@/app/actions/accounts";
import { AutoSubmit } from "@/components/AutoSubmit";
import { ErrorMessage } from "@/components/Messages";
import { PageHeader } from "@/components/PageHeader";
import { panel } from "@/components/ui";
import { isOAuthPlatform } from "@/lib/api/oauth";
import { fmt, getDict } from "@/lib/i18n";

export const dynamic = "force-dynamic";

export default async function OAuthCallbackPage({
  params,
  searchParams,
}: {
  params: Promise<{ platform: string }>;
  searchParams: Promise<Record<string, string | undefined>>;
}) {
  const { platform } = await params;
  if (!isOAuthPlatform(platform)) notFound();
  const sp = await searchParams;
  const { t } = await getDict();
  const name = t.platforms[platform];
  return (
    <>
      <PageHeader title={fmt(t.accounts.connecting, { platform: name })} />
      <div className={panel}>
        {sp.error ? (
          <ErrorMessage>
            {sp.error === "access_denied"
              ? fmt(t.accounts.denied, { platform: name })
              : fmt(t.accounts.failed, { platform: name, reason: sp.error_description ?? sp.error })}
          </ErrorMessage>
        ) : sp.code && sp.state ? (
          <AutoSubmit
            action={finishOAuth.bind(null, platform)}
            fields={{ code: sp.code, state: sp.state }}
            button={t.accounts.finish}
            pendingText={fmt(t.accounts.connecting, { platform: name })}
          />
        ) : (
          <ErrorMessage>{fmt(t.accounts.failed, { platform: name, reason: "missing code" })}</ErrorMessage>
        )}
        <p className="mt-4">
          <Link href="/accounts">{t.accounts.backToAccounts}</Link>
        </p>
      </div>
    </>
  );
}
