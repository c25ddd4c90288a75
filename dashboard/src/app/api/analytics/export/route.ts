/** The analytics posts of the page's filters as CSV: every page, streamed, UTF-8 with a byte-order mark so
 * that spreadsheet apps read Korean titles right. */
import { NextResponse, type NextRequest } from "next/server";
import { allAnalyticsPosts, analyticsFilters } from "@/lib/api/analytics";
import { clientWith } from "@/lib/api/client";
import type { PostAnalytics } from "@/lib/api/types";
import { dayIn } from "@/lib/calendar";
import { ACCESS_COOKIE } from "@/lib/session";

export const dynamic = "force-dynamic";

const COLUMNS: Array<[string, (p: PostAnalytics) => unknown]> = [
  ["post_id", (p) => p.post_id],
  ["article_id", (p) => p.article_id],
  ["article_title", (p) => p.article_title],
  ["platform", (p) => p.platform],
  ["account_id", (p) => p.account_id],
  ["published_at", (p) => p.published_at],
  ["impressions", (p) => p.impressions],
  ["engagement", (p) => p.engagement],
  ["engagement_rate", (p) => p.engagement_rate],
  ["metrics_state", (p) => p.metrics_state],
  ["metrics_code", (p) => p.metrics_code],
  ["metrics_collected_at", (p) => p.metrics_collected_at],
  ["pipeline_id", (p) => p.pipeline_id],
  ["subtopic_id", (p) => p.subtopic_id],
  ["permalink", (p) => p.permalink],
];

/** A CSV field; text a spreadsheet would run as a formula is kept as text. */
function cell(v: unknown): string {
  if (v === null || v === undefined) return "";
  let s = String(v);
  if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function line(values: unknown[]): string {
  return values.map(cell).join(",") + "\r\n";
}

export async function GET(req: NextRequest) {
  const token = req.cookies.get(ACCESS_COOKIE)?.value;
  if (!token) return NextResponse.json({ title: "Not authenticated", status: 401 }, { status: 401 });
  const client = clientWith(token);
  const tenant = await client.GET("/v1/tenant");
  if (!tenant.data) return NextResponse.json(tenant.error ?? {}, { status: tenant.response.status });
  const tz = tenant.data.timezone;
  const sp = Object.fromEntries(req.nextUrl.searchParams.entries());
  const f = analyticsFilters(sp, dayIn(new Date().toISOString(), tz));
  const pages = allAnalyticsPosts(client, f, tz);
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode("\ufeff" + line(COLUMNS.map(([name]) => name))));
    },
    async pull(controller) {
      try {
        const next = await pages.next();
        if (next.done) return controller.close();
        controller.enqueue(encoder.encode(next.value.map((p) => line(COLUMNS.map(([, get]) => get(p)))).join("")));
      } catch (e) {
        controller.error(e);
      }
    },
  });
  const name = `analytics-${f.since}-${f.until}${f.platform ? `-${f.platform}` : ""}.csv`;
  return new Response(body, {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${name}"`,
      "cache-control": "no-store",
    },
  });
}
