"use server";

import { revalidatePath } from "next/cache";
import type { FormState } from "@/components/form-state";
import { api } from "@/lib/api/client";
import { attempt } from "@/lib/api/errors";
import { fmt, getDict } from "@/lib/i18n";
import { WRITERS, writerName, type WriterName } from "@/lib/writers";

function provider(p: string): WriterName | null {
  return (WRITERS as readonly string[]).includes(p) ? (p as WriterName) : null;
}

function refresh(): void {
  revalidatePath("/model-keys");
  revalidatePath("/pipelines", "layout");
}

/** Set or replace a provider's key (checked with its vendor first when the box is ticked). */
export async function setModelKey(p: string, _: FormState, data: FormData): Promise<FormState> {
  const w = provider(p);
  if (!w) return { error: "unknown provider" };
  const key = String(data.get("key") ?? "").trim();
  const res = await attempt(
    (await api()).PUT("/v1/model-keys/{provider}", {
      params: { path: { provider: w } },
      body: { key, verify: data.get("verify") === "on" },
    }),
  );
  if (!res.ok) return { error: res.error };
  refresh();
  const { t } = await getDict();
  return { notice: fmt(t.modelKeys.saved, { writer: writerName(w) }) };
}

export async function deleteModelKey(p: string, _: FormState): Promise<FormState> {
  const w = provider(p);
  if (!w) return { error: "unknown provider" };
  const res = await attempt((await api()).DELETE("/v1/model-keys/{provider}", { params: { path: { provider: w } } }));
  if (!res.ok) return { error: res.error };
  refresh();
  return {};
}

/** Resume a paused provider; the key is checked once more first. */
export async function resumeModelKey(p: string, _: FormState): Promise<FormState> {
  const w = provider(p);
  if (!w) return { error: "unknown provider" };
  const res = await attempt(
    (await api()).POST("/v1/model-keys/{provider}/resume", { params: { path: { provider: w } }, body: { verify: true } }),
  );
  if (!res.ok) return { error: res.error };
  refresh();
  const { t } = await getDict();
  return { notice: fmt(t.modelKeys.resumed, { writer: writerName(w) }) };
}
