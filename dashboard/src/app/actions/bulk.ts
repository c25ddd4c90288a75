"use server";

import { revalidatePath } from "next/cache";
import type { FormState } from "@/components/form-state";
import { api } from "@/lib/api/client";
import { attempt, type Outcome } from "@/lib/api/errors";
import { fmt, getDict } from "@/lib/i18n";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MOST = 100;
const AT_ONCE = 8;

/** The ids a bulk form sent: the one button pressed on a row (`one`), else the ticked boxes (`ids`). */
function chosen(data: FormData): string[] {
  const one = data.get("one");
  const ids = one ? [one] : data.getAll("ids");
  return [...new Set(ids.map(String).filter((id) => UUID.test(id)))].slice(0, MOST);
}

/** Each id through `call`, a few at a time; what failed, with the API's reason. */
async function each(ids: string[], call: (id: string) => Promise<Outcome<unknown>>): Promise<string[]> {
  const errors: string[] = [];
  for (let i = 0; i < ids.length; i += AT_ONCE) {
    const results = await Promise.all(ids.slice(i, i + AT_ONCE).map(call));
    for (const r of results) if (!r.ok) errors.push(r.error);
  }
  return errors;
}

function outcome(done: number, errors: string[], ok: string, failed: string): FormState {
  const reasons = [...new Set(errors)].join("; ");
  return {
    notice: done ? fmt(ok, { n: done }) : undefined,
    error: errors.length ? fmt(failed, { n: errors.length, reasons }) : undefined,
  };
}

/** Approve the ticked articles (editors): each one's workflow goes on to publish it. */
export async function approveArticles(_: FormState, data: FormData): Promise<FormState> {
  const { t } = await getDict();
  const ids = chosen(data);
  if (ids.length === 0) return { error: t.approvals.noneSelected };
  const client = await api();
  const errors = await each(ids, (id) =>
    attempt(client.POST("/v1/articles/{article_id}/approve", { params: { path: { article_id: id } }, body: {} })),
  );
  revalidatePath("/", "layout"); // the list and the navigation's count
  return outcome(ids.length - errors.length, errors, t.approvals.approved, t.approvals.failed);
}

/** Send failed posts again (editors): one pressed Retry, or the ticked ones. */
export async function retryPosts(_: FormState, data: FormData): Promise<FormState> {
  const { t } = await getDict();
  const ids = chosen(data);
  if (ids.length === 0) return { error: t.postsPage.noneSelected };
  const client = await api();
  const errors = await each(ids, (id) =>
    attempt(client.POST("/v1/posts/{post_id}/retry", { params: { path: { post_id: id } } })),
  );
  revalidatePath("/posts");
  return outcome(ids.length - errors.length, errors, t.postsPage.retried, t.postsPage.retryFailed);
}
