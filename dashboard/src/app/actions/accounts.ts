"use server";

import { revalidatePath } from "next/cache";
import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import type { FormState } from "@/components/form-state";
import { api } from "@/lib/api/client";
import { attempt } from "@/lib/api/errors";
import { isOAuthPlatform, oauthCallback, oauthStart, type OAuthPlatform } from "@/lib/api/oauth";
import { safeNext } from "@/lib/next-path";
import { cookieOptions } from "@/lib/session";

/** Where to come back to after connecting (a page of this site), kept while the user is at the platform. */
const RETURN_COOKIE = "icop_oauth_return";
const RETURN_TTL_S = 600;

async function goToPlatform(platform: OAuthPlatform): Promise<FormState> {
  const res = await attempt(oauthStart(platform));
  if (!res.ok) return { error: res.error };
  if (!/^https?:\/\//.test(res.data.authorize_url)) return { error: "the API returned an invalid authorize URL" };
  redirect(res.data.authorize_url);
}

/** Ask the gateway for the platform's authorize URL and send the browser there. */
export async function startOAuth(platform: string, _: FormState): Promise<FormState> {
  if (!isOAuthPlatform(platform)) return { error: "unknown platform" };
  (await cookies()).delete(RETURN_COOKIE);
  return goToPlatform(platform);
}

/**
 * Connect Google from a form elsewhere (the pipeline form's "Connect Google" button, a `formAction`):
 * back on that page afterwards. A failure to start comes back there as `?google_error=`.
 */
export async function connectGoogleFrom(returnTo: string, _: FormData): Promise<void> {
  const back = safeNext(returnTo);
  (await cookies()).set(RETURN_COOKIE, back, cookieOptions(RETURN_TTL_S));
  const state = await goToPlatform("google");
  const sep = back.includes("?") ? "&" : "?";
  redirect(`${back}${sep}google_error=${encodeURIComponent(state.error ?? "")}`);
}

/** Hand the platform's code and the signed state to the gateway, which stores the accounts. */
export async function finishOAuth(platform: string, _: FormState, data: FormData): Promise<FormState> {
  if (!isOAuthPlatform(platform)) return { error: "unknown platform" };
  const code = String(data.get("code") ?? "");
  const state = String(data.get("state") ?? "");
  const res = await attempt(oauthCallback(platform, { code, state }));
  if (!res.ok) return { error: res.error };
  revalidatePath("/accounts");
  const names = res.data.map((c) => c.account_name || c.account_id).join(", ");
  const jar = await cookies();
  const back = jar.get(RETURN_COOKIE)?.value;
  if (back) {
    jar.delete(RETURN_COOKIE);
    const path = safeNext(back);
    redirect(`${path}${path.includes("?") ? "&" : "?"}connected=${encodeURIComponent(names)}`);
  }
  redirect(`/accounts?connected=${encodeURIComponent(names)}`);
}

export async function disconnect(id: string, _: FormState): Promise<FormState> {
  const res = await attempt(
    (await api()).DELETE("/v1/credentials/{credential_id}", { params: { path: { credential_id: id } } }),
  );
  if (!res.ok) return { error: res.error };
  revalidatePath("/accounts");
  return {};
}
