/** A page of the spreadsheets of the tenant's Google identity (the gateway lists them through Drive). */
import { NextResponse, type NextRequest } from "next/server";
import { listSpreadsheets } from "@/lib/api/google";

export const dynamic = "force-dynamic";

export async function GET(req: NextRequest) {
  const cursor = req.nextUrl.searchParams.get("cursor") ?? undefined;
  const res = await listSpreadsheets(cursor);
  if (res.response.ok) return NextResponse.json(res.data);
  return NextResponse.json(res.error ?? { title: "Error" }, { status: res.response.status });
}
