/** A Google Sheet's plan checked as a run would read it (rows, problems, the Subtopics tab). */
import { NextResponse, type NextRequest } from "next/server";
import { previewSheet } from "@/lib/api/google";

export const dynamic = "force-dynamic";

export async function GET(req: NextRequest, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(id)) return NextResponse.json({ title: "Not found", status: 404 }, { status: 404 });
  const range = req.nextUrl.searchParams.get("range") || undefined;
  const res = await previewSheet(id, range);
  if (res.response.ok) return NextResponse.json(res.data);
  return NextResponse.json(res.error ?? { title: "Error" }, { status: res.response.status });
}
