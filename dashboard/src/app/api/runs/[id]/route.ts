/** A run, a page of its rows and what it has cost so far, as JSON, for the live run page's refreshes. */
import { NextResponse, type NextRequest } from "next/server";
import { clientWith } from "@/lib/api/client";
import { runCostWith } from "@/lib/api/costs";
import type { RowPage, RowStatus } from "@/lib/api/types";
import { ACCESS_COOKIE } from "@/lib/session";

export const dynamic = "force-dynamic";

const PAGE = 200;
const ROW_STATUSES: RowStatus[] = ["planning", "writing", "done", "failed", "invalid"];

export async function GET(req: NextRequest, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const token = req.cookies.get(ACCESS_COOKIE)?.value;
  if (!token) return NextResponse.json({ title: "Not authenticated", status: 401 }, { status: 401 });
  const client = clientWith(token);
  const wanted = req.nextUrl.searchParams.get("status") as RowStatus | null;
  const status = wanted && ROW_STATUSES.includes(wanted) ? wanted : undefined;
  const pages = Math.min(10, Math.max(1, Number(req.nextUrl.searchParams.get("pages")) || 1));
  const run = await client.GET("/v1/runs/{run_id}", { params: { path: { run_id: id } } });
  if (!run.data) return NextResponse.json(run.error ?? {}, { status: run.response.status });
  const cost = runCostWith(client, run.data).catch(() => null); // alongside the rows
  // the first `pages` pages of rows (the table's "Show more" asks for one page more each time)
  const rows: RowPage = { items: [], next_cursor: null };
  let cursor: string | undefined;
  for (let i = 0; i < pages; i++) {
    const page = await client.GET("/v1/runs/{run_id}/rows", {
      params: { path: { run_id: id }, query: { status, limit: PAGE, cursor } },
    });
    if (!page.data) break;
    rows.items.push(...page.data.items);
    rows.next_cursor = page.data.next_cursor ?? null;
    if (!rows.next_cursor) break;
    cursor = rows.next_cursor;
  }
  return NextResponse.json({ run: run.data, rows, cost: await cost }, { headers: { "cache-control": "no-store" } });
}
