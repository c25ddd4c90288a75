/** Usage and quotas for the overview page. */
import { api } from "./client";
import { unwrap } from "./errors";
import type { AccountQuota, Budget, Costs, Usage } from "./types";

export async function getUsage(): Promise<Usage> {
  return unwrap((await api()).GET("/v1/usage"));
}

export async function listQuotas(): Promise<AccountQuota[]> {
  return unwrap((await api()).GET("/v1/quotas"));
}

/** This month's priced usage per UTC day (oldest first). */
export async function costsByDay(): Promise<Costs> {
  return unwrap((await api()).GET("/v1/costs", { params: { query: { group_by: "day" } } }));
}

/** The tenant's monthly budget and what this month's usage cost against it. */
export async function getBudget(): Promise<Budget> {
  return unwrap((await api()).GET("/v1/costs/budget"));
}
