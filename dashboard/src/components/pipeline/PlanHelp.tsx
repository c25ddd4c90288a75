import type { Dict } from "@/lib/i18n/en";

/** How a content plan is laid out (its columns and tabs), and a CSV template to start from. */
export function PlanHelp({ t }: { t: Dict["plan"] }) {
  return (
    <div className="space-y-2 text-sm">
      <details className="rounded-md border border-slate-200 p-3">
        <summary className="cursor-pointer font-medium">{t.helpTitle}</summary>
        <div className="mt-2 space-y-2 text-slate-800">
          <p>{t.helpIntro}</p>
          <ul className="list-disc space-y-1 pl-5">
            <li>{t.colTopic}</li>
            <li>{t.colNotes}</li>
            <li>{t.colLanguage}</li>
            <li>{t.colStatus}</li>
            <li>{t.colResult}</li>
          </ul>
          <p>{t.tabs}</p>
        </div>
      </details>
      <p>
        <a href="/api/plan-template" download="content-plan-template.csv">
          {t.template}
        </a>
      </p>
    </div>
  );
}
