import { LangSwitch } from "@/components/LangSwitch";
import { getDict } from "@/lib/i18n";

export default async function AuthLayout({ children }: { children: React.ReactNode }) {
  const { t } = await getDict();
  return (
    <div className="flex min-h-screen flex-col">
      <header className="flex items-center justify-between px-4 py-3 sm:px-8">
        <span className="text-lg font-bold text-blue-800">{t.app.name}</span>
        <LangSwitch t={t} />
      </header>
      <main id="main" className="mx-auto w-full max-w-md flex-1 px-4 py-8">
        {children}
      </main>
    </div>
  );
}
