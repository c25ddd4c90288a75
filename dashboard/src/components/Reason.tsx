import type { Dict } from "@/lib/i18n/en";
import type { Said } from "@/lib/problems";

/** A reason in the UI's language; the English original (a platform's own words, a failure's cause) behind
 * a disclosure, for support. */
export function Reason({ said, t, empty = "—" }: { said: Said | null; t: Dict; empty?: string }) {
  if (!said) return <>{empty}</>;
  return (
    <div className="break-keep">
      <span>{said.text}</span>
      {said.original ? (
        <details className="mt-1 text-xs text-slate-700">
          <summary className="cursor-pointer">{t.problems.original}</summary>
          <span lang="en" className="break-words">
            {said.original}
          </span>
        </details>
      ) : null}
    </div>
  );
}
