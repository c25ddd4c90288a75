import { setLanguage } from "@/app/actions/session";
import type { Dict } from "@/lib/i18n";

/** One button that switches to the other language (its label is written in that language). */
export function LangSwitch({ t }: { t: Dict }) {
  return (
    <form action={setLanguage}>
      <input type="hidden" name="lang" value={t.app.switchToLang} />
      <button
        type="submit"
        lang={t.app.switchToLang}
        className="rounded-md border border-slate-400 bg-white px-3 py-1.5 text-sm text-slate-900 hover:bg-slate-100"
      >
        {t.app.switchTo}
      </button>
    </form>
  );
}
