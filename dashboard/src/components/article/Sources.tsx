import type { Research, Source } from "@/lib/api/types";
import { fmt, type Dict } from "@/lib/i18n";

const PROVIDER_NAMES: Record<string, string> = { tavily: "Tavily", naver: "Naver" };

/** The pages the article cites as [n], with links, and a clear mark when it has none. */
export function Sources({ sources, research, t }: { sources: Source[]; research: Research | null | undefined; t: Dict }) {
  const a = t.articles;
  if (!research) return <p className="mt-2 text-sm text-slate-700">{a.noResearch}</p>;
  if (research.status === "unsourced") {
    return (
      <div className="mt-2 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm" data-testid="unsourced">
        <p className="font-medium text-amber-900">{a.unsourced}</p>
        <p className="mt-1 text-slate-800">{a.unsourcedHint}</p>
        {research.reason ? <p className="mt-1 break-words text-slate-700">{research.reason}</p> : null}
      </div>
    );
  }
  const provider = PROVIDER_NAMES[research.provider ?? ""] ?? research.provider ?? "";
  return (
    <>
      <p className="mt-1 text-sm text-slate-700">{fmt(a.sourcesHint, { provider })}</p>
      <ol className="mt-3 space-y-3 text-sm" data-testid="sources">
        {sources.map((s) => (
          <li key={s.n} id={`source-${s.n}`} className="[overflow-wrap:anywhere]">
            <span className="font-mono text-slate-600">[{s.n}]</span>{" "}
            <a href={s.url} rel="noopener noreferrer nofollow" target="_blank" className="font-medium">
              {s.title}
            </a>
            <div className="text-xs text-slate-700">
              {[s.site, s.published].filter(Boolean).join(" · ")}
            </div>
            {s.passages.length > 0 ? (
              <details className="mt-1">
                <summary className="cursor-pointer text-xs text-slate-700">{a.passages}</summary>
                <ul className="mt-1 list-disc space-y-1 pl-5 text-xs text-slate-800">
                  {s.passages.map((p, i) => (
                    <li key={i}>{p}</li>
                  ))}
                </ul>
              </details>
            ) : null}
          </li>
        ))}
      </ol>
    </>
  );
}
