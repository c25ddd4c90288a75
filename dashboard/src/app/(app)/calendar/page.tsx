import Link from "next/link";
import { reschedulePost } from "@/app/actions/editing";
import { ActionForm } from "@/components/ActionForm";
import { CalendarDrop } from "@/components/calendar/CalendarDrop";
import { CalendarGrid, KIND_STYLE } from "@/components/calendar/CalendarGrid";
import { PageHeader } from "@/components/PageHeader";
import { PlatformSelect } from "@/components/PlatformSelect";
import { SubmitButton } from "@/components/SubmitButton";
import { btn, btnSecondary, hint, input, label, panel } from "@/components/ui";
import { can, getMe, getTenant } from "@/lib/api/account";
import { calendarPosts, type CalendarFilters } from "@/lib/api/calendar";
import { api } from "@/lib/api/client";
import { listCredentials } from "@/lib/api/settings";
import { SOCIAL } from "@/lib/api/social";
import type { Post } from "@/lib/api/types";
import { calendarParams, dayIn, postsByDay, type CalendarKind, type CalendarRange } from "@/lib/calendar";
import { formatDate, formatMonth, formatNumber, formatWeekDay } from "@/lib/format";
import { fmt, getDict } from "@/lib/i18n";
import { utcToZoned } from "@/lib/schedule";

export const dynamic = "force-dynamic";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KINDS: CalendarKind[] = ["scheduled", "published", "failed", "other"];

/** The calendar's address with some of its parameters changed (undefined: left out). */
function hrefWith(base: Record<string, string | undefined>, change: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...base, ...change })) if (v) q.set(k, v);
  return q.size ? `/calendar?${q}` : "/calendar";
}

async function postToMove(id: string | undefined): Promise<Post | null> {
  if (!id || !UUID.test(id)) return null;
  const { data } = await (await api()).GET("/v1/posts/{post_id}", { params: { path: { post_id: id } } });
  return data ?? null;
}

export default async function CalendarPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | undefined>>;
}) {
  const sp = await searchParams;
  const [{ t, lang }, me, tenant, credentials] = await Promise.all([getDict(), getMe(), getTenant(), listCredentials()]);
  const tz = tenant.timezone;
  const c = t.calendar;
  const today = dayIn(new Date().toISOString(), tz);
  const range: CalendarRange = calendarParams(sp, today);
  const accounts = credentials.filter((cr) => SOCIAL.some((p) => p === cr.platform));
  const f: CalendarFilters = {
    platform: SOCIAL.find((p) => p === sp.platform),
    // any account id: a removed account's posts stay on the calendar
    account: sp.account?.trim().slice(0, 200) || undefined,
  };
  const accountKnown = !f.account || accounts.some((a) => a.account_id === f.account);
  const first = range.days[0] ?? range.anchor;
  const last = range.days[range.days.length - 1] ?? range.anchor;
  const [{ posts, truncated }, moving] = await Promise.all([
    calendarPosts(first, last, tz, f),
    postToMove(sp.move),
  ]);
  const byDay = postsByDay(posts, tz);
  const editor = can(me.role, "editor");
  const base = {
    view: range.view === "week" ? "week" : undefined,
    date: sp.date ? range.anchor : undefined,
    platform: f.platform,
    account: f.account,
  };
  const week = range.view === "week";
  const heading = week ? fmt(c.weekOf, { date: formatWeekDay(first, lang) }) : formatMonth(range.month, lang);
  const filtered = Boolean(f.platform || f.account);
  const select = `${input} mt-1`;

  return (
    <>
      <PageHeader title={c.title}>
        <div role="group" aria-label={c.views} className="flex gap-1">
          {(["month", "week"] as const).map((v) => (
            <Link
              key={v}
              href={hrefWith(base, { view: v === "week" ? "week" : undefined })}
              aria-current={range.view === v ? "page" : undefined}
              className={range.view === v ? btn : btnSecondary}
            >
              {c[v]}
            </Link>
          ))}
        </div>
      </PageHeader>

      <form method="get" action="/calendar" role="search" aria-label={c.filters} className={`${panel} mb-4`}>
        {base.view ? <input type="hidden" name="view" value={base.view} /> : null}
        {base.date ? <input type="hidden" name="date" value={base.date} /> : null}
        <div className="grid grid-cols-1 gap-3 sm:grid-cols-3 sm:items-end">
          <div>
            <label htmlFor="cal-platform" className={label}>
              {t.common.platform}
            </label>
            <PlatformSelect id="cal-platform" value={f.platform} any={c.anyPlatform} t={t} className={select} />
          </div>
          <div>
            <label htmlFor="cal-account" className={label}>
              {c.account}
            </label>
            <select id="cal-account" name="account" defaultValue={f.account ?? ""} className={select}>
              <option value="">{c.anyAccount}</option>
              {accountKnown ? null : <option value={f.account}>{f.account}</option>}
              {accounts.map((a) => (
                <option key={`${a.platform}-${a.account_id}`} value={a.account_id}>
                  {t.platforms[a.platform]} · {a.account_name || a.account_id}
                </option>
              ))}
            </select>
          </div>
          <div className="flex flex-wrap gap-2">
            <button type="submit" className={btn}>
              {c.apply}
            </button>
            {filtered ? (
              <Link href={hrefWith(base, { platform: undefined, account: undefined })} className={btnSecondary}>
                {c.clear}
              </Link>
            ) : null}
          </div>
        </div>
      </form>

      {moving ? (
        <section aria-labelledby="move-h" id="move" className={`${panel} mb-4 border-blue-300`}>
          <h2 id="move-h">{c.moveTitle}</h2>
          <p className="mt-1 text-sm">
            <Link href={`/articles/${moving.article_id}`} className="font-medium">
              {moving.article_title || t.postsPage.untitled}
            </Link>{" "}
            · {t.platforms[moving.platform]} <span className="break-all text-slate-700">{moving.account_id}</span>
          </p>
          {moving.status === "scheduled" && editor ? (
            <>
              <p className="mt-1 text-sm text-slate-700">{fmt(c.current, { when: formatDate(moving.not_before, tz, lang) })}</p>
              <ActionForm
                action={reschedulePost.bind(null, moving.article_id, moving.id, tz)}
                className="mt-3 flex flex-col gap-2 sm:flex-row sm:items-end"
              >
                <div>
                  <label htmlFor="move-at" className={label}>
                    {c.newTime}
                  </label>
                  <input
                    id="move-at"
                    name="publish_at"
                    type="datetime-local"
                    step={1}
                    required
                    aria-describedby="move-at-hint"
                    defaultValue={moving.not_before ? utcToZoned(moving.not_before, tz) : ""}
                    className={`${input} mt-1`}
                  />
                  <p id="move-at-hint" className={hint}>
                    {fmt(c.newTimeHint, { zone: tz })}
                  </p>
                </div>
                <SubmitButton className={btn}>{c.move}</SubmitButton>
              </ActionForm>
            </>
          ) : (
            <p className="mt-2 text-sm text-slate-700">{c.notScheduled}</p>
          )}
          <p className="mt-3">
            <Link href={hrefWith(base, {})} className="text-sm">
              {c.close}
            </Link>
          </p>
        </section>
      ) : null}

      <section aria-labelledby="period-h" className={panel}>
        <div className="mb-3 flex flex-col gap-2 sm:flex-row sm:items-center sm:justify-between">
          <h2 id="period-h">{heading}</h2>
          <nav aria-label={c.title} className="flex flex-wrap gap-2">
            <Link href={hrefWith(base, { date: range.prev })} className={btnSecondary}>
              <span aria-hidden="true">←</span> {week ? c.prevWeek : c.prevMonth}
            </Link>
            <Link href={hrefWith(base, { date: undefined })} className={btnSecondary}>
              {c.today}
            </Link>
            <Link href={hrefWith(base, { date: range.next })} className={btnSecondary}>
              {week ? c.nextWeek : c.nextMonth} <span aria-hidden="true">→</span>
            </Link>
          </nav>
        </div>
        <ul aria-label={c.legend} className="mb-3 flex flex-wrap gap-x-4 gap-y-1 text-xs">
          {KINDS.map((k) => (
            <li key={k} className="flex items-center gap-1">
              <span aria-hidden="true" className={`inline-block rounded border-l-4 px-1 ${KIND_STYLE[k].box}`}>
                {KIND_STYLE[k].glyph}
              </span>
              {c.kinds[k]}
            </li>
          ))}
        </ul>
        {editor ? <p className="mb-3 text-xs text-slate-700">{c.dragHint}</p> : null}
        {truncated ? (
          <p role="status" className="mb-3 rounded bg-amber-50 p-2 text-sm text-amber-950">
            {fmt(c.truncated, { n: formatNumber(posts.length, lang) })}
          </p>
        ) : null}
        {posts.length === 0 ? <p className="mb-3 text-sm text-slate-700">{c.empty}</p> : null}
        <CalendarDrop timeZone={tz} moving={c.moving}>
          <CalendarGrid
            range={range}
            byDay={byDay}
            today={today}
            tz={tz}
            lang={lang}
            t={t}
            canMove={editor}
            moveHref={(id) => `${hrefWith(base, { move: id })}#move`}
            dayHref={(day) => hrefWith(base, { view: "week", date: day })}
          />
        </CalendarDrop>
      </section>
    </>
  );
}
