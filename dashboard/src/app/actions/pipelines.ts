"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import type { FormState } from "@/components/form-state";
import { api } from "@/lib/api/client";
import { attempt } from "@/lib/api/errors";
import { uploadPlan } from "@/lib/api/pipelines";
import { ApiError } from "@/lib/api/errors";
import type { ImageProvider, PipelineCreate, RunCreate, SocialPlatform, Target, Writer } from "@/lib/api/types";

const WRITERS: Writer[] = ["gpt", "claude", "gemini"];
const PLATFORMS: SocialPlatform[] = ["facebook", "instagram", "threads", "x"];
const PROVIDERS: ImageProvider[] = ["offline", "dalle", "flux"];

function str(data: FormData, name: string): string {
  const v = data.get(name);
  return typeof v === "string" ? v.trim() : "";
}

function targetsOf(data: FormData): Target[] {
  return data
    .getAll("targets")
    .map(String)
    .flatMap((v) => {
      const i = v.indexOf(":");
      const platform = v.slice(0, i) as SocialPlatform;
      return i > 0 && PLATFORMS.includes(platform) ? [{ platform, account_id: v.slice(i + 1) }] : [];
    });
}

/** The pipeline's fields from the form; the CSV plan (if a file was chosen) is uploaded first. */
async function fieldsOf(data: FormData, currentCsvKey?: string | null): Promise<{ body: PipelineCreate; note?: string }> {
  const source = str(data, "source_kind") === "sheet" ? "sheet" : "csv";
  const writers = data.getAll("writers").map(String).filter((w): w is Writer => WRITERS.includes(w as Writer));
  const provider = str(data, "image_provider") as ImageProvider;
  const body: PipelineCreate = {
    name: str(data, "name"),
    source_kind: source,
    cron: str(data, "cron") || null,
    timezone: str(data, "timezone") || "UTC",
    mode: str(data, "mode") === "merge" ? "merge" : "compare",
    writers,
    image_provider: PROVIDERS.includes(provider) ? provider : "offline",
    subtopics_per_topic: Number(str(data, "subtopics_per_topic")) || 5,
    targets: targetsOf(data),
    approval_required: data.get("approval_required") === "on",
    dry_run: data.get("dry_run") === "on",
  };
  let note: string | undefined;
  if (source === "sheet") {
    body.sheet_id = str(data, "sheet_id");
    body.sheet_range = str(data, "sheet_range") || "ContentPlan!A2:E";
  } else {
    const file = data.get("csv");
    if (file instanceof File && file.size > 0) {
      const up = await uploadPlan(file);
      body.csv_object_key = up.csv_object_key;
      note = `plan_rows=${up.rows}&plan_problems=${up.problems.length}`;
    } else {
      body.csv_object_key = currentCsvKey ?? null;
    }
  }
  return { body, note };
}

async function fields(data: FormData, currentCsvKey?: string | null) {
  try {
    return { ok: true as const, ...(await fieldsOf(data, currentCsvKey)) };
  } catch (e) {
    if (e instanceof ApiError) return { ok: false as const, error: e.message };
    throw e;
  }
}

export async function createPipeline(_: FormState, data: FormData): Promise<FormState> {
  const f = await fields(data);
  if (!f.ok) return { error: f.error };
  const res = await attempt((await api()).POST("/v1/pipelines", { body: f.body }));
  if (!res.ok) return { error: res.error };
  revalidatePath("/pipelines");
  redirect(`/pipelines/${res.data.id}?created=1${f.note ? `&${f.note}` : ""}`);
}

export async function updatePipeline(id: string, csvKey: string | null, _: FormState, data: FormData): Promise<FormState> {
  const f = await fields(data, csvKey);
  if (!f.ok) return { error: f.error };
  const res = await attempt(
    (await api()).PATCH("/v1/pipelines/{pipeline_id}", { params: { path: { pipeline_id: id } }, body: f.body }),
  );
  if (!res.ok) return { error: res.error };
  revalidatePath(`/pipelines/${id}`);
  redirect(`/pipelines/${id}?saved=1${f.note ? `&${f.note}` : ""}`);
}

export async function setPipelineStatus(id: string, status: "active" | "paused", _: FormState): Promise<FormState> {
  const res = await attempt(
    (await api()).PATCH("/v1/pipelines/{pipeline_id}", { params: { path: { pipeline_id: id } }, body: { status } }),
  );
  if (!res.ok) return { error: res.error };
  revalidatePath(`/pipelines/${id}`);
  return {};
}

export async function deletePipeline(id: string, _: FormState): Promise<FormState> {
  const res = await attempt(
    (await api()).DELETE("/v1/pipelines/{pipeline_id}", { params: { path: { pipeline_id: id } } }),
  );
  if (!res.ok) return { error: res.error };
  revalidatePath("/pipelines");
  redirect("/pipelines");
}

function rowNumber(data: FormData, name: string): number | null {
  const v = str(data, name);
  if (!v) return null;
  const n = Number(v);
  return Number.isInteger(n) && n > 0 ? n : null;
}

export async function startRun(pipelineId: string, _: FormState, data: FormData): Promise<FormState> {
  const body: RunCreate =
    str(data, "kind") === "backfill"
      ? { kind: "backfill", from_row: rowNumber(data, "from_row"), to_row: rowNumber(data, "to_row") }
      : { kind: "manual" };
  const res = await attempt(
    (await api()).POST("/v1/pipelines/{pipeline_id}/runs", { params: { path: { pipeline_id: pipelineId } }, body }),
  );
  if (!res.ok) return { error: res.error };
  redirect(`/runs/${res.data.id}`);
}
