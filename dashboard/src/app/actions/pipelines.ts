"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import type { FormState } from "@/components/form-state";
import { api } from "@/lib/api/client";
import { ApiError, attempt, localized } from "@/lib/api/errors";
import { uploadPlan } from "@/lib/api/pipelines";
import type {
  ImageProvider,
  KeySource,
  PipelineCreate,
  PlanUpload,
  RunCreate,
  SocialPlatform,
  SourceKind,
  Target,
  Writer,
} from "@/lib/api/types";
import { getDict } from "@/lib/i18n";
import { NOTE_COLUMNS, PLAN_RANGE, sheetIdOf } from "@/lib/plans";

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

/** What the form edits of a pipeline it did not render as fields: kept as they are on save. */
export interface CurrentPlan {
  plan_object_key?: string | null;
  source_kind?: SourceKind;
  settings?: Record<string, unknown>;
}

class FormProblem extends Error {}

/** Whose key a writer uses: the tenant's own only when the form says so. */
function keySource(data: FormData, writer: Writer): KeySource {
  return str(data, `model_key_${writer}`) === "tenant" ? "tenant" : "platform";
}

/** The form's percentage of new angles as the API's share (0 to 1); empty or unreadable: the default. */
function shareOf(percent: string): number {
  const n = Number(percent);
  if (percent.trim() === "" || !Number.isFinite(n)) return 0.3;
  return Math.min(100, Math.max(0, n)) / 100;
}

/** The pipeline's fields from the form. A plan file checked in the form comes as its key; a file chosen but
 * not checked is uploaded (checked and stored) here first. */
async function fieldsOf(data: FormData, current?: CurrentPlan): Promise<{ body: PipelineCreate; note?: string }> {
  const writers = data.getAll("writers").map(String).filter((w): w is Writer => WRITERS.includes(w as Writer));
  const provider = str(data, "image_provider") as ImageProvider;
  const column = str(data, "status_note_column").toUpperCase();
  const body: PipelineCreate = {
    name: str(data, "name"),
    cron: str(data, "cron") || null,
    timezone: str(data, "timezone") || "UTC",
    mode: str(data, "mode") === "merge" ? "merge" : "compare",
    writers,
    image_provider: PROVIDERS.includes(provider) ? provider : "offline",
    subtopics_per_topic: Number(str(data, "subtopics_per_topic")) || 5,
    targets: targetsOf(data),
    approval_required: data.get("approval_required") === "on",
    dry_run: data.get("dry_run") === "on",
    learn_topics: data.get("learn_topics") === "on",
    explore_share: shareOf(str(data, "explore_share")),
    learn_times: data.get("learn_times") === "on",
    model_keys: {
      gpt: keySource(data, "gpt"),
      claude: keySource(data, "claude"),
      gemini: keySource(data, "gemini"),
    },
    settings: { ...(current?.settings ?? {}), status_note_column: NOTE_COLUMNS.includes(column) ? column : "" },
  };
  let note: string | undefined;
  if (str(data, "plan_source") !== "file") {
    body.source_kind = "sheet";
    body.sheet_id = sheetIdOf(str(data, "sheet_id"));
    body.sheet_range = str(data, "sheet_range") || PLAN_RANGE;
    body.plan_object_key = null;
    return { body };
  }
  body.sheet_id = null;
  const key = str(data, "plan_object_key");
  const kind = str(data, "plan_kind");
  const file = data.get("plan_file");
  if (key && (kind === "csv" || kind === "xlsx")) {
    body.plan_object_key = key;
    body.source_kind = kind;
  } else if (file instanceof File && file.size > 0) {
    const up = await uploadPlan(file);
    body.plan_object_key = up.plan_object_key;
    body.source_kind = up.source_kind;
    note = `plan_rows=${up.rows}&plan_problems=${up.problems.length}`;
  } else if (current?.plan_object_key && current.source_kind && current.source_kind !== "sheet") {
    body.plan_object_key = current.plan_object_key;
    body.source_kind = current.source_kind;
  } else {
    throw new FormProblem((await getDict()).t.plan.chooseFile);
  }
  return { body, note };
}

async function fields(data: FormData, current?: CurrentPlan) {
  try {
    return { ok: true as const, ...(await fieldsOf(data, current)) };
  } catch (e) {
    if (e instanceof ApiError) return { ok: false as const, error: await localized(e) };
    if (e instanceof FormProblem) return { ok: false as const, error: e.message };
    throw e;
  }
}

export type PlanFileResult = { ok: true; upload: PlanUpload } | { ok: false; error: string };

/** Check and store a plan file before the pipeline is made (the form shows its rows and problems). */
export async function checkPlanFile(data: FormData): Promise<PlanFileResult> {
  const file = data.get("plan_file");
  if (!(file instanceof File) || file.size === 0) return { ok: false, error: (await getDict()).t.plan.chooseFile };
  try {
    return { ok: true, upload: await uploadPlan(file) };
  } catch (e) {
    if (e instanceof ApiError) return { ok: false, error: await localized(e) };
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

export async function updatePipeline(id: string, current: CurrentPlan, _: FormState, data: FormData): Promise<FormState> {
  const f = await fields(data, current);
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
