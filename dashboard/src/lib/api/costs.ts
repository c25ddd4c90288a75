/** What usage cost (`GET /v1/costs`): of one run or article over its whole life, of a pipeline's runs and of
 * the tenant's pipelines this month. */
import { api, type Api } from "./client";
import { unwrap } from "./errors";
import type { CostItem, Costs } from "./types";

/** A cost with nothing in it (no usage recorded yet). */
export function noCost(id: string | null = null): CostItem {
  return { id, total_usd: "0", llm_usd: "0", image_usd: "0", other_usd: "0", unpriced_records: 0 };
}

function runQuery(run: { id: string; created_at: string }) {
  return { group_by: "run" as const, run_id: run.id, since: run.created_at };
}

/** The run's cost since it was created (its articles' usage; a run can span a month's end). */
export async function runCost(run: { id: string; created_at: string }): Promise<CostItem> {
  const res = await unwrap((await api()).GET("/v1/costs", { params: { query: runQuery(run) } }));
  return res.items.find((i) => i.id === run.id) ?? noCost(run.id);
}

/** The same for the live run page's refreshes (a route handler with its own client): null when the API
 * did not answer, so that the page keeps the figure it has. */
export async function runCostWith(client: Api, run: { id: string; created_at: string }): Promise<CostItem | null> {
  const res = await client.GET("/v1/costs", { params: { query: runQuery(run) } });
  if (!res.data) return null;
  return res.data.items.find((i) => i.id === run.id) ?? noCost(run.id);
}

/** The article's cost since it was created (drafts, edits, images, regenerations). */
export async function articleCost(article: { id: string; created_at: string }): Promise<CostItem> {
  const res = await unwrap(
    (await api()).GET("/v1/costs", {
      params: { query: { group_by: "article", article_id: article.id, since: article.created_at } },
    }),
  );
  return res.items.find((i) => i.id === article.id) ?? noCost(article.id);
}

/** This month's cost of the pipeline, per run (most expensive first). */
export async function pipelineRunCosts(pipelineId: string): Promise<Costs> {
  return unwrap(
    (await api()).GET("/v1/costs", { params: { query: { group_by: "run", pipeline_id: pipelineId } } }),
  );
}

/** This month's cost per pipeline (most expensive first; `id` null: usage not tied to a pipeline). */
export async function costsByPipeline(): Promise<Costs> {
  return unwrap((await api()).GET("/v1/costs", { params: { query: { group_by: "pipeline" } } }));
}
