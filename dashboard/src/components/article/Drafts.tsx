import { chooseDraft } from "@/app/actions/editing";
import { ActionForm } from "@/components/ActionForm";
import { SubmitButton } from "@/components/SubmitButton";
import { btnSecondary } from "@/components/ui";
import type { Draft, EditorVerdict, Writer } from "@/lib/api/types";
import type { Dict } from "@/lib/i18n";
import { WRITER_NAMES } from "@/lib/writers";
import { Markdown } from "./Markdown";

/**
 * The writers' drafts side by side, with the editor's score for each and the winner marked; while the
 * article awaits approval, any other draft can be made the article (`canChoose`).
 */
export function Drafts({
  drafts,
  editor,
  articleId,
  t,
  chosen = null,
  canChoose = false,
  language,
}: {
  drafts: Draft[];
  editor: EditorVerdict | null | undefined;
  articleId: string;
  t: Dict;
  /** The writer whose draft a person made the article (null: the Editor's choice). */
  chosen?: Writer | null;
  canChoose?: boolean;
  /** The article's language: the drafts' text is marked with it. */
  language?: string;
}) {
  const inUse = chosen ?? editor?.winner ?? null;
  return (
    <div className="mt-3 grid gap-3 lg:grid-cols-3" data-testid="drafts">
      {drafts.map((d) => {
        const score = editor?.scores?.[d.writer];
        const winner = editor?.winner === d.writer;
        return (
          <article
            key={d.writer}
            aria-labelledby={`draft-${d.writer}`}
            className={`rounded-md border p-3 ${winner ? "border-green-600 ring-1 ring-green-600" : "border-slate-200"}`}
          >
            <header className="flex flex-wrap items-center justify-between gap-2">
              <h3 id={`draft-${d.writer}`} className="text-base font-semibold">
                {WRITER_NAMES[d.writer] ?? d.writer}
              </h3>
              <span className="flex flex-wrap gap-1">
                {winner ? (
                  <span className="rounded-full border border-green-300 bg-green-100 px-2 py-0.5 text-xs font-medium text-green-900">
                    {t.articles.winner}
                  </span>
                ) : null}
                {chosen === d.writer ? (
                  <span className="rounded-full border border-blue-300 bg-blue-100 px-2 py-0.5 text-xs font-medium text-blue-900">
                    {t.editing.chosenByYou}
                  </span>
                ) : null}
              </span>
            </header>
            <dl className="mt-1 text-xs text-slate-700">
              <div className="flex gap-1">
                <dt>{t.articles.model}:</dt>
                <dd className="break-all">{d.model}</dd>
              </div>
              <div className="flex gap-1">
                <dt>{t.articles.score}:</dt>
                <dd className="font-semibold">{score === undefined ? "—" : score}</dd>
              </div>
            </dl>
            <p className="mt-2 text-sm font-medium">{d.title}</p>
            <div
              tabIndex={0}
              role="region"
              aria-label={`${WRITER_NAMES[d.writer] ?? d.writer}: ${d.title}`}
              className="mt-2 max-h-96 overflow-y-auto rounded border border-slate-100 p-2 text-sm"
            >
              <Markdown
                markdown={d.markdown}
                articleId={articleId}
                imageLabel={t.articles.image}
                headingOffset={3}
                lang={language}
              />
            </div>
            {canChoose && inUse !== d.writer ? (
              <ActionForm action={chooseDraft.bind(null, articleId, d.writer)} className="mt-2">
                <SubmitButton className={btnSecondary}>{t.editing.useDraft}</SubmitButton>
              </ActionForm>
            ) : null}
            {canChoose && inUse === d.writer ? <p className="mt-2 text-sm text-slate-700">{t.editing.inUse}</p> : null}
          </article>
        );
      })}
    </div>
  );
}
