import Link from "next/link";
import { regenerateArticle, rejectArticle } from "@/app/actions/articles";
import { approveAt } from "@/app/actions/editing";
import { ActionForm } from "@/components/ActionForm";
import { Notice } from "@/components/Messages";
import { AutoRefresh } from "@/components/AutoRefresh";
import { ArticleEditor } from "@/components/article/ArticleEditor";
import { Drafts } from "@/components/article/Drafts";
import { Markdown } from "@/components/article/Markdown";
import { PostMetrics } from "@/components/article/PostMetrics";
import { PostSchedule } from "@/components/article/PostSchedule";
import { Previews } from "@/components/article/Previews";
import { Sources } from "@/components/article/Sources";
import { CostBreakdown } from "@/components/cost/CostBreakdown";
import { PageHeader } from "@/components/PageHeader";
import { PostsTable } from "@/components/PostsTable";
import { Reason } from "@/components/Reason";
import { StatusBadge } from "@/components/StatusBadge";
import { SubmitButton } from "@/components/SubmitButton";
import { btnDanger, btnSecondary, hint, input, label, panel } from "@/components/ui";
import { can, getMe, getTenant } from "@/lib/api/account";
import { postSeries } from "@/lib/api/analytics";
import { getArticle, getPreviews, listPosts } from "@/lib/api/articles";
import { articleCost } from "@/lib/api/costs";
import { formatDate } from "@/lib/format";
import { choiceText, similarText } from "@/lib/learning";
import { fmt, getDict } from "@/lib/i18n";
import { articleError, editorRationale, fallbackText, writerFailure } from "@/lib/problems";
import { writerName } from "@/lib/writers";

export const dynamic = "force-dynamic";

const WRITER_NAMES: Record<string, string> = { gpt: "GPT", claude: "Claude", gemini: "Gemini" };

const SETTLING = new Set(["pending", "writing", "approved"]);
const POST_SETTLING = new Set(["pending", "publishing"]);
const SOON_MS = 10 * 60 * 1000; // a post scheduled within this is watched for (the page refreshes itself)

function seoValue(v: unknown): string {
  if (Array.isArray(v)) return v.map(String).join(", ");
  if (v === null || v === undefined) return "—";
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

export default async function ArticlePage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<Record<string, string | undefined>>;
}) {
  const { id } = await params;
  const { decided, at, draft } = await searchParams;
  const [{ t, lang }, me, tenant, article] = await Promise.all([getDict(), getMe(), getTenant(), getArticle(id)]);
  const [previews, posts, cost] = await Promise.all([
    getPreviews(article.id),
    listPosts({ article_id: article.id }),
    articleCost(article),
  ]);
  const series = await Promise.all(posts.items.filter((p) => p.published_at).map((p) => postSeries(p.id)));
  const a = t.articles;
  const drafts = article.drafts ?? [];
  const seo = article.seo as Record<string, unknown>;
  const seoLabels: Record<string, string> = {
    title: a.seoTitle,
    meta_description: a.seoDescription,
    slug: a.seoSlug,
    keywords: a.seoKeywords,
    hashtags: a.seoHashtags,
  };
  const seoKeys = [...Object.keys(seoLabels).filter((k) => k in seo), ...Object.keys(seo).filter((k) => !(k in seoLabels))];
  const awaiting = article.status === "awaiting_approval" && can(me.role, "editor");
  const scheduled = posts.items.filter((p) => p.status === "scheduled");
  const now = Date.now();
  const dueSoon = scheduled.some((p) => p.not_before && new Date(p.not_before).getTime() - now < SOON_MS);
  const settling =
    SETTLING.has(article.status) || posts.items.some((p) => POST_SETTLING.has(p.status)) || dueSoon;
  const e = t.editing;
  const s = t.schedule;
  const why = choiceText(article.subtopic?.choice, t, lang);
  const similar = similarText(article.subtopic?.choice, t, lang);

  return (
    <>
      {settling ? <AutoRefresh /> : null}
      <PageHeader title={article.title || a.article} titleLang={article.title ? article.language : undefined}>
        <StatusBadge status={article.status} labels={t.status} />
      </PageHeader>
      <p className="-mt-4 mb-4 flex flex-wrap gap-x-3 text-sm text-slate-700">
        <span>{article.language}</span>
        <span>
          {a.mode}: {article.mode === "merge" ? a.merge : a.compare}
        </span>
        <span>{formatDate(article.created_at, tenant.timezone, lang)}</span>
        {article.edited_at ? <span>{fmt(e.edited, { when: formatDate(article.edited_at, tenant.timezone, lang) })}</span> : null}
        {article.run_id ? <Link href={`/runs/${article.run_id}`}>{a.run}</Link> : null}
        {drafts.length > 0 ? <a href="#drafts-h">{a.compareDrafts}</a> : null}
      </p>
      {article.subtopic ? (
        <div className="-mt-2 mb-4 text-sm text-slate-700" data-testid="article-subtopic">
          <p>
            <span className="font-medium text-slate-900">{t.learning.subtopic}:</span>{" "}
            <span lang={article.language}>{article.subtopic.label}</span>
          </p>
          {why ? <p>{why}</p> : null}
          {similar ? <p className="text-xs">{similar}</p> : null}
        </div>
      ) : null}
      {decided === "regenerated" && article.status !== "awaiting_approval" ? (
        <div className="mb-4">
          <Notice>{e.regenerating}</Notice>
        </div>
      ) : null}
      {decided === "approved" || decided === "rejected" ? (
        // the approve/reject actions redirect here with ?decided=…: the approval section is gone by now
        <div className="mb-4">
          <Notice>
            {decided === "rejected"
              ? a.rejected
              : at
                ? fmt(s.approvedFor, { when: formatDate(at, tenant.timezone, lang) })
                : a.approved}
          </Notice>
        </div>
      ) : null}
      {awaiting && draft && drafts.some((d) => d.writer === draft) ? (
        <div className="mb-4">
          <Notice>{fmt(e.draftUsed, { writer: WRITER_NAMES[draft] ?? draft })}</Notice>
        </div>
      ) : null}
      {article.error ? (
        <div className="mb-4 text-sm text-red-800">
          <Reason said={articleError(article, t)} t={t} />
        </div>
      ) : null}

      {article.fallbacks.length > 0 ? (
        <section
          aria-labelledby="fallbacks-h"
          className={`${panel} mb-4 border-amber-300 bg-amber-50`}
          data-testid="article-fallbacks"
        >
          <h2 id="fallbacks-h">{t.problems.fallbacks.title}</h2>
          <p className="mt-1 text-sm text-slate-800">{t.problems.fallbacks.hint}</p>
          <ul className="mt-2 space-y-2 text-sm">
            {article.fallbacks.map((f) => (
              <li key={f.node}>
                <Reason said={fallbackText(f, t)} t={t} />
              </li>
            ))}
          </ul>
        </section>
      ) : null}

      {awaiting ? (
        <section aria-labelledby="approval-h" className={`${panel} mb-4 border-amber-300 bg-amber-50`}>
          <h2 id="approval-h">{a.approval}</h2>
          <p className="mt-1 text-sm text-slate-800">{a.approvalHint}</p>
          <div className="mt-3 flex flex-col gap-4 sm:flex-row sm:items-end">
            <ActionForm action={approveAt.bind(null, article.id, tenant.timezone)} className="space-y-2">
              <div>
                <label htmlFor="publish-at" className={label}>
                  {s.publishAt}
                </label>
                <input
                  id="publish-at"
                  name="publish_at"
                  type="datetime-local"
                  aria-describedby="publish-at-hint"
                  className={`${input} mt-1`}
                />
                <p id="publish-at-hint" className={hint}>
                  {fmt(s.publishAtHint, { zone: tenant.timezone })}
                </p>
              </div>
              <SubmitButton>{a.approve}</SubmitButton>
            </ActionForm>
            <ActionForm action={rejectArticle.bind(null, article.id)} className="flex-1 space-y-2">
              <label htmlFor="reason" className={label}>
                {a.rejectReason}
              </label>
              <textarea id="reason" name="reason" rows={2} className={input} required maxLength={1000} />
              <SubmitButton className={btnDanger}>{a.reject}</SubmitButton>
            </ActionForm>
          </div>
          <ActionForm action={regenerateArticle.bind(null, article.id)} className="mt-4 space-y-1">
            <p className={hint}>{e.regenerateHint}</p>
            <SubmitButton className={btnSecondary}>{e.regenerate}</SubmitButton>
          </ActionForm>
        </section>
      ) : null}

      {awaiting ? (
        <section aria-labelledby="editor-h" className={`${panel} mb-4`}>
          <h2 id="editor-h">{e.title}</h2>
          <p className="mt-1 text-sm text-slate-800">{e.hint}</p>
          <ArticleEditor
            // a chosen draft replaces the text: a fresh editor, not the one holding the old text
            key={article.draft_writer ?? ""}
            articleId={article.id}
            title={article.title}
            summary={String(seo.meta_description ?? "")}
            body={article.body ?? ""}
            images={article.images}
            t={e}
            imageLabel={a.image}
          />
        </section>
      ) : null}

      {scheduled.length > 0 ? (
        <section aria-labelledby="schedule-h" className={`${panel} mb-4`}>
          <h2 id="schedule-h">{s.title}</h2>
          <p className="mt-1 text-sm text-slate-800">{s.hint}</p>
          <PostSchedule
            articleId={article.id}
            posts={scheduled}
            canMove={can(me.role, "editor")}
            tz={tenant.timezone}
            lang={lang}
            t={t}
          />
        </section>
      ) : null}

      <div className="grid gap-4 lg:grid-cols-3">
        <section aria-labelledby="article-h" className={`${panel} min-w-0 lg:col-span-2`}>
          <h2 id="article-h" className="sr-only">
            {a.article}
          </h2>
          {article.markdown ? (
            <Markdown
              markdown={article.markdown}
              articleId={article.id}
              images={article.images}
              imageLabel={a.image}
              headingOffset={2}
              lang={article.language}
            />
          ) : (
            <p className="text-sm text-slate-700">{a.noMarkdown}</p>
          )}
        </section>
        <div className="min-w-0 space-y-4">
          <section aria-labelledby="seo-h" className={panel}>
            <h2 id="seo-h">{a.seo}</h2>
            <dl className="mt-3 space-y-2 text-sm">
              {seoKeys.map((k) => (
                <div key={k}>
                  <dt className="text-slate-600">{seoLabels[k] ?? k}</dt>
                  <dd className="break-words" lang={article.language}>
                    {seoValue(seo[k])}
                  </dd>
                </div>
              ))}
            </dl>
          </section>
          <section aria-labelledby="sources-h" className={panel}>
            <h2 id="sources-h">{a.sources}</h2>
            <Sources sources={article.sources ?? []} research={article.research} t={t} />
          </section>
          <section aria-labelledby="cost-h" className={panel}>
            <h2 id="cost-h">{t.costs.articleTitle}</h2>
            <CostBreakdown cost={cost} t={t} lang={lang} compact testId="article-cost" />
          </section>
          {article.editor?.rationale ? (
            <section aria-labelledby="rationale-h" className={panel}>
              <h2 id="rationale-h">{a.rationale}</h2>
              <p className="mt-2 text-sm whitespace-pre-wrap">
                {editorRationale(article.editor, article.drafts.map((d) => d.writer), t)}
              </p>
            </section>
          ) : null}
        </div>
      </div>

      {drafts.length > 0 ? (
        <section aria-labelledby="drafts-h" className={`${panel} mt-4`}>
          <h2 id="drafts-h">{a.drafts}</h2>
          <Drafts
            drafts={drafts}
            editor={article.editor}
            articleId={article.id}
            t={t}
            chosen={article.draft_writer ?? null}
            canChoose={awaiting}
            language={article.language}
          />
        </section>
      ) : null}

      {(article.writer_failures ?? []).length > 0 ? (
        <section aria-labelledby="writer-failures-h" className={`${panel} mt-4`} data-testid="writer-failures">
          <h2 id="writer-failures-h">{a.writerFailures}</h2>
          <ul className="mt-2 space-y-2 text-sm">
            {(article.writer_failures ?? []).map((f) => (
              <li key={f.writer} className="flex gap-2">
                <span className="font-medium">{writerName(f.writer)}</span>
                <Reason said={writerFailure(f, t)} t={t} />
              </li>
            ))}
          </ul>
        </section>
      ) : null}

      <section aria-labelledby="previews-h" className={`${panel} mt-4`}>
        <h2 id="previews-h">{a.previews}</h2>
        <Previews previews={previews} t={t} lang={lang} contentLang={article.language} />
      </section>

      <section aria-labelledby="posts-h" className={`${panel} mt-4`}>
        <h2 id="posts-h">{a.posts}</h2>
        {posts.items.length === 0 ? (
          <p className="mt-2 text-sm text-slate-700">{a.noPosts}</p>
        ) : (
          <div className="mt-3">
            <PostsTable posts={posts.items} t={t} lang={lang} tz={tenant.timezone} />
          </div>
        )}
      </section>

      {series.length ? (
        <section aria-labelledby="metrics-h" className={`${panel} mt-4`}>
          <h2 id="metrics-h">{t.metrics.title}</h2>
          <PostMetrics series={series} t={t} lang={lang} tz={tenant.timezone} />
        </section>
      ) : null}
    </>
  );
}
