"use server";

import type { FormState } from "@/components/form-state";
import { getUsage } from "@/lib/api/overview";
import { getDict } from "@/lib/i18n";
import { accountLimit } from "@/lib/plan-limits";
import { startOAuth } from "./accounts";

/**
 * Connect a new account: refused here, before the platform's consent page, when the plan has no room
 * left (the page already says so and disables the button; this covers a page opened before another
 * account was connected). Reconnecting an account goes straight to `startOAuth`: it is not a new one.
 */
export async function connectNewAccount(platform: string, state: FormState): Promise<FormState> {
  const [{ t, lang }, usage] = await Promise.all([getDict(), getUsage()]);
  const limit = accountLimit(usage, t, lang);
  if (limit.full) return { error: limit.message };
  return startOAuth(platform, state);
}
