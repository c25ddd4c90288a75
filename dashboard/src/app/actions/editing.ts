"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import type { FormState } from "@/components/form-state";
import { attempt } from "@/lib/api/errors";
import { api } from "@/lib/api/client";
import type { Writer } from "@/lib/api/types";
import { formatDate } from "@/lib/format";
import { fmt, getDict } from "@/lib/i18n";
import { zonedToUtc } from "@/lib/schedule";

function str(data: FormData, name: string): string {
  const v = data.get(name);
  return typeof v === "string" ? v : "";
}

/** The title, summary and text an editor left, before approving. */
export async function editArticle(id: string, _: FormState, data: FormData): Promise<FormState> {
  const { t } = await getDict();
  const body = { title: str(data, "title").trim(), summary: str(data, "summary").trim(), body: str(data, "body") };
  const res = await attempt(
    (await api()).PATCH("/v1/articles/{article_id}", { params: { path: { article_id: id } }, body }),
  );
  if (!res.ok) return { error: res.error };
  revalidatePath(`/articles/${id}`);
  return { notice: t.editing.saved };
}

/** Another writer's draft becomes the article. */
export async function chooseDraft(id: string, writer: Writer, _: FormState): Promise<FormState> {
  const res = await attempt(
    (await api()).POST("/v1/articles/{article_id}/draft", { params: { path: { article_id: id } }, body: { writer } }),
  );
  if (!res.ok) return { error: res.error };
  revalidatePath(`/articles/${id}`);
  redirect(`/articles/${encodeURIComponent(id)}?draft=${encodeURIComponent(writer)}#editor-h`);
}

/** Approve, at once or for a time typed in the tenant's time zone. */
export async function approveAt(id: string, timeZone: string, _: FormState, data: FormData): Promise<FormState> {
  const { t } = await getDict();
  const local = str(data, "publish_at").trim();
  const at = local ? zonedToUtc(local, timeZone) : null;
  if (local && !at) return { error: t.schedule.invalidTime };
  const res = await attempt(
    (await api()).POST("/v1/articles/{article_id}/approve", {
      params: { path: { article_id: id } },
      body: at ? { publish_at: at.toISOString() } : {},
    }),
  );
  if (!res.ok) return { error: res.error };
  revalidatePath(`/articles/${id}`);
  // The approval section is gone once the page refreshes: the page says what happened from these.
  const q = new URLSearchParams({ decided: "approved" });
  if (at) q.set("at", at.toISOString());
  redirect(`/articles/${encodeURIComponent(id)}?${q}`);
}

/** A scheduled post moved to another time (typed in the tenant's time zone): from the article page's form,
 * the calendar's form, and a drop on the calendar (which sends the new day at the post's time of day). */
export async function reschedulePost(
  articleId: string,
  postId: string,
  timeZone: string,
  _: FormState,
  data: FormData,
): Promise<FormState> {
  const { t, lang } = await getDict();
  const at = zonedToUtc(str(data, "publish_at"), timeZone);
  if (!at) return { error: t.schedule.invalidTime };
  const res = await attempt(
    (await api()).PATCH("/v1/posts/{post_id}", {
      params: { path: { post_id: postId } },
      body: { publish_at: at.toISOString() },
    }),
  );
  if (!res.ok) return { error: res.error };
  revalidatePath(`/articles/${articleId}`);
  revalidatePath("/calendar");
  return { notice: fmt(t.schedule.moved, { when: formatDate(at.toISOString(), timeZone, lang) }) };
}
