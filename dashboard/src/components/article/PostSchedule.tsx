import { reschedulePost } from "@/app/actions/editing";
import { ActionForm } from "@/components/ActionForm";
import { SubmitButton } from "@/components/SubmitButton";
import { btnSecondary, input, label } from "@/components/ui";
import type { Post } from "@/lib/api/types";
import { formatDate, type Locale } from "@/lib/format";
import { fmt, type Dict } from "@/lib/i18n";
import { timeChoiceText } from "@/lib/learning";
import { utcToZoned } from "@/lib/schedule";

/** The article's scheduled posts, each with its time and (for editors) a form to move it. */
export function PostSchedule({
  articleId,
  posts,
  canMove,
  tz,
  lang,
  t,
}: {
  articleId: string;
  posts: Post[];
  canMove: boolean;
  tz: string;
  lang: Locale;
  t: Dict;
}) {
  const s = t.schedule;
  return (
    <ul className="mt-3 space-y-4" data-testid="post-schedule">
      {posts.map((p) => {
        const platform = t.platforms[p.platform] ?? p.platform;
        const inputId = `move-${p.id}`;
        return (
          <li key={p.id} className="rounded-md border border-slate-200 p-3">
            <p className="text-sm">
              <span className="font-medium">{platform}</span> <span className="break-all text-slate-700">{p.account_id}</span>
              {" · "}
              <span>{fmt(s.scheduledFor, { when: formatDate(p.not_before, tz, lang) })}</span>
            </p>
            {p.time_choice ? (
              <p className="mt-1 text-xs text-slate-700" data-testid="post-time-choice">
                {timeChoiceText(p.time_choice, t, lang)}
              </p>
            ) : null}
            {canMove ? (
              <ActionForm
                action={reschedulePost.bind(null, articleId, p.id, tz)}
                className="mt-2 flex flex-col gap-2 sm:flex-row sm:items-end"
              >
                <div>
                  <label htmlFor={inputId} className={label}>
                    {fmt(s.newTime, { platform, account: p.account_id })}
                  </label>
                  <input
                    id={inputId}
                    name="publish_at"
                    type="datetime-local"
                    step={1}
                    required
                    defaultValue={p.not_before ? utcToZoned(p.not_before, tz) : ""}
                    className={`${input} mt-1`}
                  />
                </div>
                <SubmitButton className={btnSecondary}>{s.move}</SubmitButton>
              </ActionForm>
            ) : null}
          </li>
        );
      })}
    </ul>
  );
}
