/** A file pipeline's plan with what its runs wrote filled in, downloaded with the session's token. */
import type { NextRequest } from "next/server";
import { apiUrl } from "@/lib/env";
import { ACCESS_COOKIE } from "@/lib/session";

export const dynamic = "force-dynamic";

const TABS = new Set(["ContentPlan", "Subtopics"]);

export async function GET(req: NextRequest, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const token = req.cookies.get(ACCESS_COOKIE)?.value;
  if (!token) return new Response(null, { status: 401 });
  const tab = req.nextUrl.searchParams.get("tab") ?? "ContentPlan";
  if (!TABS.has(tab) || !/^[0-9a-f-]{36}$/.test(id)) return new Response(null, { status: 404 });
  const upstream = await fetch(
    `${apiUrl()}/v1/pipelines/${encodeURIComponent(id)}/plan?tab=${encodeURIComponent(tab)}`,
    { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" },
  );
  if (!upstream.ok || !upstream.body) {
    return new Response(null, { status: upstream.status === 401 ? 401 : upstream.status === 422 ? 422 : 404 });
  }
  return new Response(upstream.body, {
    headers: {
      "content-type": upstream.headers.get("content-type") ?? "application/octet-stream",
      "content-disposition": upstream.headers.get("content-disposition") ?? `attachment; filename="plan-${id}"`,
      "cache-control": "private, no-store",
    },
  });
}
