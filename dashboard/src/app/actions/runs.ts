"use server";

import { redirect } from "next/navigation";
import type { FormState } from "@/components/form-state";
import { api } from "@/lib/api/client";
import { attempt } from "@/lib/api/errors";

export async function cancelRun(id: string, _: FormState): Promise<FormState> {
  const res = await attempt((await api()).POST("/v1/runs/{run_id}/cancel", { params: { path: { run_id: id } } }));
  return res.ok ? {} : { error: res.error };
}

/** A new run over the rows that failed in this one; the browser goes to it. */
export async function retryRun(id: string, _: FormState): Promise<FormState> {
  const res = await attempt((await api()).POST("/v1/runs/{run_id}/retry", { params: { path: { run_id: id } } }));
  if (!res.ok) return { error: res.error };
  redirect(`/runs/${res.data.id}?retried=1`);
}
