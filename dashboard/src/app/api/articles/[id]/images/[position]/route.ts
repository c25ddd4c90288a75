/** An article's image, fetched from the gateway with the session's token (no remote image hosts). */
import type { NextRequest } from "next/server";
import { apiUrl } from "@/lib/env";
import { ACCESS_COOKIE } from "@/lib/session";

export const dynamic = "force-dynamic";

export async function GET(req: NextRequest, { params }: { params: Promise<{ id: string; position: string }> }) {
  const { id, position } = await params;
  const token = req.cookies.get(ACCESS_COOKIE)?.value;
  if (!token) return new Response(null, { status: 401 });
  if (!/^\d{1,3}$/.test(position)) return new Response(null, { status: 404 });
  const upstream = await fetch(
    `${apiUrl()}/v1/articles/${encodeURIComponent(id)}/images/${position}`,
    { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" },
  );
  if (!upstream.ok || !upstream.body) return new Response(null, { status: upstream.status === 401 ? 401 : 404 });
  return new Response(upstream.body, {
    headers: {
      "content-type": upstream.headers.get("content-type") ?? "image/jpeg",
      "cache-control": "private, max-age=300",
    },
  });
}
