"use server";

import { cookies, headers } from "next/headers";
import { redirect } from "next/navigation";
import { clientWith } from "@/lib/api/client";
import { attempt } from "@/lib/api/errors";
import { getDict, isLang, LANG_COOKIE } from "@/lib/i18n";
import { safeNext } from "@/lib/next-path";
import { REFRESH_COOKIE, clearSession, cookieOptions, writeSession } from "@/lib/session";
import type { FormState } from "@/components/form-state";

/** The browser's address as this server saw it, for the gateway's per-address sign-in throttling (it
 * believes it only when ICOP_TRUSTED_PROXIES names this server). */
async function forwardedFor(): Promise<Record<string, string>> {
  const chain = (await headers()).get("x-forwarded-for");
  return chain ? { "X-Forwarded-For": chain } : {};
}

function text(data: FormData, name: string): string {
  const v = data.get(name);
  return typeof v === "string" ? v.trim() : "";
}

export async function login(_: FormState, data: FormData): Promise<FormState> {
  const { t } = await getDict();
  const res = await attempt(
    clientWith().POST("/v1/auth/login", {
      body: { email: text(data, "email"), password: String(data.get("password") ?? "") },
      headers: await forwardedFor(),
    }),
    { anonymous: true },
  );
  if (!res.ok) return { error: res.status === 401 ? t.auth.invalid : res.error };
  writeSession(await cookies(), res.data);
  redirect(safeNext(data.get("next")));
}

export async function signup(_: FormState, data: FormData): Promise<FormState> {
  const { t } = await getDict();
  const email = text(data, "email");
  const password = String(data.get("password") ?? "");
  // The gateway answers sign-up the same way for a free and a taken address (no account enumeration);
  // logging in with the new password tells the two apart for the one who knows it.
  const created = await attempt(
    clientWith().POST("/v1/auth/signup", {
      body: {
        company_name: text(data, "company_name"),
        display_name: text(data, "display_name"),
        email,
        password,
      },
      headers: await forwardedFor(),
    }),
    { anonymous: true },
  );
  if (!created.ok) return { error: created.error };
  const res = await attempt(
    clientWith().POST("/v1/auth/login", { body: { email, password }, headers: await forwardedFor() }),
    { anonymous: true },
  );
  if (!res.ok) return { error: res.status === 401 ? t.auth.signupFailed : res.error };
  writeSession(await cookies(), res.data);
  redirect("/");
}

export async function logout(): Promise<void> {
  const jar = await cookies();
  const refresh = jar.get(REFRESH_COOKIE)?.value;
  if (refresh) {
    // Revoke the refresh token's family; the cookies go either way.
    await clientWith()
      .POST("/v1/auth/logout", { body: { refresh_token: refresh } })
      .catch(() => undefined);
  }
  clearSession(jar);
  redirect("/login?logged_out=1");
}

/** Store the chosen language and go back to the page the switch was on. */
export async function setLanguage(data: FormData): Promise<void> {
  const lang = data.get("lang");
  if (isLang(lang)) (await cookies()).set(LANG_COOKIE, lang, cookieOptions(365 * 24 * 3600));
  let back = "/";
  try {
    const ref = new URL((await headers()).get("referer") ?? "");
    back = `${ref.pathname}${ref.search}`;
  } catch {
    // no referrer: the overview
  }
  redirect(safeNext(back));
}
