"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import type { FormState } from "@/components/form-state";
import { attempt } from "@/lib/api/errors";
import { api } from "@/lib/api/client";

export async function approveArticle(id: string, _: FormState): Promise<FormState> {
  const res = await attempt(
    (await api()).POST("/v1/articles/{article_id}/approve", { params: { path: { article_id: id } }, body: {} }),
  );
  if (!res.ok) return { error: res.error };
  revalidatePath(`/articles/${id}`);
  // The approval section (and the form's own notice with it) is gone once the page refreshes: the
  // article page shows the outcome at its top from this search parameter instead.
  redirect(`/articles/${encodeURIComponent(id)}?decided=approved`);
}

export async function rejectArticle(id: string, _: FormState, data: FormData): Promise<FormState> {
  const reason = String(data.get("reason") ?? "").trim();
  const res = await attempt(
    (await api()).POST("/v1/articles/{article_id}/reject", { params: { path: { article_id: id } }, body: { reason } }),
  );
  if (!res.ok) return { error: res.error };
  revalidatePath(`/articles/${id}`);
  redirect(`/articles/${encodeURIComponent(id)}?decided=rejected`);
}

export async function regenerateArticle(id: string, _: FormState): Promise<FormState> {
  const res = await attempt(
    (await api()).POST("/v1/articles/{article_id}/regenerate", { params: { path: { article_id: id } } }),
  );
  if (!res.ok) return { error: res.error };
  revalidatePath(`/articles/${id}`);
  redirect(`/articles/${encodeURIComponent(id)}?decided=regenerated`);
}
