import Link from "next/link";
import { getDict } from "@/lib/i18n";

export default async function NotFound() {
  const { t } = await getDict();
  return (
    <div className="py-10">
      <h1>{t.app.notFoundTitle}</h1>
      <p className="mt-3 text-slate-700">{t.app.notFoundText}</p>
      <p className="mt-6">
        <Link href="/">{t.app.backHome}</Link>
      </p>
    </div>
  );
}
