/** Runs: one run and its rows. */
import { api } from "./client";
import { unwrap } from "./errors";
import type { RowPage, RowStatus, Run } from "./types";

export async function getRun(id: string): Promise<Run> {
  return unwrap((await api()).GET("/v1/runs/{run_id}", { params: { path: { run_id: id } } }), { orNotFound: true });
}

export async function listRunRows(
  id: string,
  opts: { status?: RowStatus; limit?: number; cursor?: string } = {},
): Promise<RowPage> {
  return unwrap(
    (await api()).GET("/v1/runs/{run_id}/rows", {
      params: { path: { run_id: id }, query: { status: opts.status, limit: opts.limit ?? 200, cursor: opts.cursor } },
    }),
    { orNotFound: true },
  );
}
