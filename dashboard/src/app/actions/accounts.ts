"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import type { FormState } from "@/components/form-state";
import { api } from "@/lib/api/client";
import { attempt } from "@/lib/api/errors";
import { isSocial, oauthCallback, oauthStart } from "@/lib/api/oauth";

/** Ask the gateway for the platform's authorize URL and send the browser there. */
export async function startOAuth(platform: string, _: FormState): Promise<FormState> {
  if (!isSocial(platform)) return { error: "unknown platform" };
  const res = await attempt(oauthStart(platform));
  if (!res.ok) return { error: res.error };
  if (!/^https?:\/\//.test(res.data.authorize_url)) return { error: "the API returned an invalid authorize URL" };
  redirect(res.data.authorize_url);
}

/** Hand the platform's code and the signed state to the gateway, which stores the accounts. */
export async function finishOAuth(platform: string, _: FormState, data: FormData): Promise<FormState> {
  if (!isSocial(platform)) return { error: "unknown platform" };
  const code = String(data.get("code") ?? "");
  const state = String(data.get("state") ?? "");
  const res = await attempt(oauthCallback(platform, { code, state }));
  if (!res.ok) return { error: res.error };
  revalidatePath("/accounts");
  const names = res.data.map((c) => c.account_name || c.account_id).join(", ");
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
