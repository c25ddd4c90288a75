/** The next runs of a cron expression in a time zone (the gateway validates both). */
import { NextResponse, type NextRequest } from "next/server";
import { cronPreview } from "@/lib/api/pipelines";

export const dynamic = "force-dynamic";

export async function GET(req: NextRequest) {
  const cron = req.nextUrl.searchParams.get("cron") ?? "";
  const timezone = req.nextUrl.searchParams.get("timezone") ?? "UTC";
  const res = await cronPreview(cron, timezone, 5);
  if (res.response.ok) return NextResponse.json(res.data);
  return NextResponse.json(res.error ?? { title: "Error" }, { status: res.response.status });
}
