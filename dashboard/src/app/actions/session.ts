"use server";

import { cookies, headers } from "next/headers";
import { redirect } from "next/navigation";
import { clientWith } from "@/lib/api/client";
import { attempt } from "@/lib/api/errors";
import { getDict, isLang, LANG_COOKIE } from "@/lib/i18n";
import { REFRESH_COOKIE, clearSession, cookieOptions, writeSession } from "@/lib/session";
import type { FormState } from "@/components/form-state";

/** Only paths on this site: never an open redirect. */
function safeNext(value: FormDataEntryValue | null): string {
  const v = typeof value === "string" ? value : "";
  return v.startsWith("/") && !v.startsWith("//") && !v.startsWith("/\\") ? v : "/";
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
    }),
  );
  if (!res.ok) return { error: res.status === 401 ? t.auth.invalid : res.error };
  writeSession(await cookies(), res.data);
  redirect(safeNext(data.get("next")));
}

type Plan = "starter" | "growth" | "enterprise";

export async function signup(_: FormState, data: FormData): Promise<FormState> {
  const { t } = await getDict();
  const plan = text(data, "plan");
  const res = await attempt(
    clientWith().POST("/v1/auth/signup", {
      body: {
        company_name: text(data, "company_name"),
        display_name: text(data, "display_name"),
        email: text(data, "email"),
        password: String(data.get("password") ?? ""),
        plan: (["starter", "growth", "enterprise"].includes(plan) ? plan : "starter") as Plan,
      },
    }),
  );
  if (!res.ok) return { error: res.status === 409 ? t.auth.taken : res.error };
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
