"use client";

import { useState } from "react";
import { editArticle } from "@/app/actions/editing";
import { ActionForm } from "@/components/ActionForm";
import { SubmitButton } from "@/components/SubmitButton";
import { hint, input, label } from "@/components/ui";
import type { ArticleImage } from "@/lib/api/types";
import type { Dict } from "@/lib/i18n";
import { Markdown } from "./Markdown";

/**
 * The chosen draft (as the Editor finished it, or as edited) while the article awaits approval: title,
 * summary and Markdown text, with the text's preview beside it as it is typed.
 */
export function ArticleEditor({
  articleId,
  title,
  summary,
  body,
  images,
  t,
  imageLabel,
}: {
  articleId: string;
  title: string;
  summary: string;
  body: string;
  images: ArticleImage[];
  t: Dict["editing"];
  imageLabel: string;
}) {
  const [text, setText] = useState(body);
  return (
    <ActionForm action={editArticle.bind(null, articleId)} className="mt-3 space-y-4">
      <div>
        <label htmlFor="edit-title" className={label}>
          {t.titleLabel}
        </label>
        <input id="edit-title" name="title" defaultValue={title} required maxLength={200} className={`${input} mt-1`} />
      </div>
      <div>
        <label htmlFor="edit-summary" className={label}>
          {t.summaryLabel}
        </label>
        <textarea
          id="edit-summary"
          name="summary"
          defaultValue={summary}
          rows={2}
          maxLength={500}
          aria-describedby="edit-summary-hint"
          className={`${input} mt-1`}
        />
        <p id="edit-summary-hint" className={hint}>
          {t.summaryHint}
        </p>
      </div>
      <div className="grid gap-4 lg:grid-cols-2">
        <div className="min-w-0">
          <label htmlFor="edit-body" className={label}>
            {t.bodyLabel}
          </label>
          <textarea
            id="edit-body"
            name="body"
            value={text}
            onChange={(e) => setText(e.target.value)}
            required
            rows={18}
            maxLength={100000}
            aria-describedby="edit-body-hint"
            className={`${input} mt-1 font-mono`}
          />
          <p id="edit-body-hint" className={hint}>
            {t.bodyHint}
          </p>
        </div>
        <div className="min-w-0">
          <h3 id="edit-preview-h" className={label}>
            {t.preview}
          </h3>
          <div
            tabIndex={0}
            role="region"
            aria-labelledby="edit-preview-h"
            data-testid="edit-preview"
            className="mt-1 max-h-[28rem] overflow-y-auto rounded-md border border-slate-200 p-3 text-sm"
          >
            <Markdown markdown={text} articleId={articleId} images={images} imageLabel={imageLabel} headingOffset={3} />
          </div>
        </div>
      </div>
      <SubmitButton>{t.save}</SubmitButton>
    </ActionForm>
  );
}
