/** The plan's limits said before an action would exceed them (safe in server and client components). */
import type { Usage } from "./api/types";
import { formatNumber, type Locale } from "./format";
import type { Dict } from "./i18n/en";
import { fmt } from "./i18n/fmt";

/** A plan's name in the UI's language (an unknown one as the API names it). */
export function planName(plan: string, t: Dict): string {
  const names: Record<string, string> = {
    starter: t.planLimits.planStarter,
    growth: t.planLimits.planGrowth,
    enterprise: t.planLimits.planEnterprise,
  };
  return names[plan] ?? plan;
}

/** Whether another account fits the plan, with the sentence that says where the tenant stands. */
export function accountLimit(usage: Usage, t: Dict, lang: Locale): { full: boolean; message: string } {
  const vars = {
    plan: planName(usage.plan, t),
    used: formatNumber(usage.connected_accounts, lang),
    limit: formatNumber(usage.connected_accounts_limit, lang),
  };
  const full = usage.connected_accounts >= usage.connected_accounts_limit;
  return { full, message: fmt(full ? t.planLimits.full : t.planLimits.usage, vars) };
}
