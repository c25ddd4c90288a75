/** Recent runs across the tenant's pipelines (the API lists runs per pipeline). */
import { listPipelines, listRuns } from "./pipelines";
import type { Pipeline, Run } from "./types";

export interface RunWithPipeline {
  run: Run;
  pipeline: Pipeline;
}

export async function recentRuns(limit = 10, pipelines?: Pipeline[]): Promise<RunWithPipeline[]> {
  const all = pipelines ?? (await listPipelines());
  const lists = await Promise.all(
    all.slice(0, 20).map(async (p) => (await listRuns(p.id, 5)).map((run) => ({ run, pipeline: p }))),
  );
  return lists
    .flat()
    .sort((a, b) => b.run.created_at.localeCompare(a.run.created_at))
    .slice(0, limit);
}
