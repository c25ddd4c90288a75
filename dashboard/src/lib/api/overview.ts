/** Usage and quotas for the overview page. */
import { api } from "./client";
import { unwrap } from "./errors";
import type { AccountQuota, Usage } from "./types";

export async function getUsage(): Promise<Usage> {
  return unwrap((await api()).GET("/v1/usage"));
}

export async function listQuotas(): Promise<AccountQuota[]> {
  return unwrap((await api()).GET("/v1/quotas"));
}
