/** A content plan template (CSV, UTF-8 with a byte-order mark so spreadsheet apps read Korean right):
 * the header row and example rows in English and Korean. */
export const dynamic = "force-static";

const ROWS = [
  ["topic", "notes", "language", "status", "result"],
  ["Home coffee brewing", "Beginners who just bought their first grinder; friendly, practical", "en", "", ""],
  ["Sustainable travel in Europe", "Young professionals, weekend trips by train", "en", "", ""],
  ["홈카페 커피 추출", "처음 그라인더를 산 초보자, 친근하고 실용적인 말투", "ko", "", ""],
  ["제주도 여행", "가족 여행객, 3박 4일 일정", "ko", "", ""],
];

function cell(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function GET() {
  const csv = "\ufeff" + ROWS.map((r) => r.map(cell).join(",")).join("\r\n") + "\r\n";
  return new Response(csv, {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": 'attachment; filename="content-plan-template.csv"',
    },
  });
}
