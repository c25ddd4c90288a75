/** Pipelines, their runs, plan uploads and cron previews. */
import { api } from "./client";
import { unwrap } from "./errors";
import type { Pipeline, PlanUpload, Run } from "./types";

export async function listPipelines(): Promise<Pipeline[]> {
  const items: Pipeline[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 10; page++) {
    const res = await unwrap((await api()).GET("/v1/pipelines", { params: { query: { limit: 100, cursor } } }));
    items.push(...res.items);
    if (!res.next_cursor) break;
    cursor = res.next_cursor;
  }
  return items;
}

export async function getPipeline(id: string): Promise<Pipeline> {
  return unwrap((await api()).GET("/v1/pipelines/{pipeline_id}", { params: { path: { pipeline_id: id } } }), {
    orNotFound: true,
  });
}

export async function listRuns(pipelineId: string, limit = 20): Promise<Run[]> {
  const res = await unwrap(
    (await api()).GET("/v1/pipelines/{pipeline_id}/runs", {
      params: { path: { pipeline_id: pipelineId }, query: { limit } },
    }),
    { orNotFound: true },
  );
  return res.items;
}

/** A CSV or XLSX plan, checked and stored (`POST /v1/plans`): its key, its kind and what is wrong in it. */
export async function uploadPlan(file: File): Promise<PlanUpload> {
  const form = new FormData();
  form.append("file", file, file.name || "plan.csv");
  return unwrap(
    (await api()).POST("/v1/plans", {
      // openapi-fetch sends FormData as is (the browser-style multipart body)
      body: form as unknown as { file: string },
      bodySerializer: (b: unknown) => b as FormData,
    }),
  );
}

export async function cronPreview(cron: string, timezone: string, count = 5) {
  return (await api()).GET("/v1/pipelines/cron-preview", { params: { query: { cron, timezone, count } } });
}
