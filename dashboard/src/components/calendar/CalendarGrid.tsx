import Link from "next/link";
import type { Post } from "@/lib/api/types";
import { calendarKind, timeIn, type CalendarKind, type CalendarRange } from "@/lib/calendar";
import { formatNumber, formatWeekDay, formatWeekdayName, type Locale } from "@/lib/format";
import { fmt, type Dict } from "@/lib/i18n";

/** Colour and a glyph per kind (never colour alone: the glyph, and the status in words for screen readers). */
export const KIND_STYLE: Record<CalendarKind, { box: string; glyph: string }> = {
  scheduled: { box: "border-blue-700 bg-blue-50 text-blue-950", glyph: "◷" },
  published: { box: "border-green-700 bg-green-50 text-green-950", glyph: "✓" },
  failed: { box: "border-red-700 bg-red-50 text-red-950", glyph: "✕" },
  other: { box: "border-slate-500 bg-slate-100 text-slate-900", glyph: "•" },
};
/** A month cell shows this many posts, then a link to the day's week. */
const MONTH_CELL = 4;

/**
 * The days of a month or a week, Monday first, each with its posts in time order, coloured by status and
 * linked to their article. A scheduled post that the user may move carries what a drop needs (`data-post`,
 * `data-article`, `data-time`) and a Move link (the keyboard's way). On a phone the days become a list and
 * the days without posts are left out, so nothing is wider than the screen.
 */
export function CalendarGrid({
  range,
  byDay,
  today,
  tz,
  lang,
  t,
  canMove,
  moveHref,
  dayHref,
}: {
  range: CalendarRange;
  byDay: Map<string, Post[]>;
  today: string;
  tz: string;
  lang: Locale;
  t: Dict;
  canMove: boolean;
  moveHref: (postId: string) => string;
  dayHref: (day: string) => string;
}) {
  const c = t.calendar;
  const week = range.view === "week";
  return (
    <div data-testid="calendar" data-view={range.view}>
      <div aria-hidden="true" className="hidden grid-cols-7 border-b border-slate-300 sm:grid">
        {range.days.slice(0, 7).map((day) => (
          <div key={day} className="px-2 py-1 text-xs font-semibold text-slate-700">
            {formatWeekdayName(day, lang)}
          </div>
        ))}
      </div>
      <ol className="grid grid-cols-1 sm:grid-cols-7 sm:border-l sm:border-slate-200">
        {range.days.map((day) => {
          const posts = byDay.get(day) ?? [];
          const outside = !week && day.slice(0, 7) !== range.month;
          const shown = week ? posts : posts.slice(0, MONTH_CELL);
          const hidden = posts.length - shown.length;
          const isToday = day === today;
          const label = formatWeekDay(day, lang);
          return (
            <li
              key={day}
              data-day={day}
              aria-current={isToday ? "date" : undefined}
              className={`min-w-0 border-b border-slate-200 p-1.5 transition-colors sm:border-r ${
                week ? "sm:min-h-72" : "sm:min-h-28"
              } ${posts.length || isToday ? "" : "hidden sm:block"} ${outside ? "bg-slate-50" : "bg-white"}`}
            >
              <h3 className="flex items-baseline justify-between gap-1 text-sm font-normal">
                <span className="sm:sr-only">{label}</span>
                <span
                  aria-hidden="true"
                  className={`hidden h-6 min-w-6 items-center justify-center rounded-full px-1 text-xs tabular-nums sm:inline-flex ${
                    isToday ? "bg-blue-700 font-semibold text-white" : outside ? "text-slate-600" : "text-slate-800"
                  }`}
                >
                  {Number(day.slice(8))}
                </span>
                {posts.length ? (
                  <span className="text-xs text-slate-600">
                    {posts.length === 1 ? c.onePost : fmt(c.posts, { n: formatNumber(posts.length, lang) })}
                  </span>
                ) : null}
              </h3>
              {shown.length ? (
                <ul className="mt-1 space-y-1">
                  {shown.map((p) => (
                    <CalendarItem key={p.id} post={p} tz={tz} t={t} week={week} canMove={canMove} moveHref={moveHref(p.id)} />
                  ))}
                </ul>
              ) : null}
              {hidden > 0 ? (
                <Link href={dayHref(day)} className="mt-1 block text-xs">
                  <span aria-hidden="true">{fmt(c.more, { n: formatNumber(hidden, lang) })}</span>
                  <span className="sr-only">{fmt(c.moreLabel, { n: formatNumber(hidden, lang), date: label })}</span>
                </Link>
              ) : null}
            </li>
          );
        })}
      </ol>
    </div>
  );
}

function CalendarItem({
  post,
  tz,
  t,
  week,
  canMove,
  moveHref,
}: {
  post: Post;
  tz: string;
  t: Dict;
  week: boolean;
  canMove: boolean;
  moveHref: string;
}) {
  const c = t.calendar;
  const kind = calendarKind(post.status);
  const style = KIND_STYLE[kind];
  const platform = t.platforms[post.platform] ?? post.platform;
  const title = post.article_title || t.postsPage.untitled;
  const time = timeIn(post.calendar_at, tz);
  const movable = canMove && kind === "scheduled";
  // the seconds too, so a drop keeps the exact time of day
  const wall = movable ? `${time}:${new Date(post.calendar_at).toISOString().slice(17, 19)}` : undefined;
  return (
    <li
      data-post={movable ? post.id : undefined}
      data-article={movable ? post.article_id : undefined}
      data-time={wall}
      data-kind={kind}
      data-testid="calendar-post"
      draggable={movable ? true : undefined}
      className={`flex min-w-0 gap-x-1 rounded border-l-4 px-1.5 py-0.5 text-xs ${style.box} ${
        week ? "flex-col" : "items-start"
      } ${movable ? "cursor-grab" : ""}`}
    >
      <Link
        href={`/articles/${post.article_id}`}
        draggable={false}
        title={`${title} · ${platform} ${post.account_id}`}
        className={`min-w-0 flex-1 text-inherit no-underline hover:underline ${week ? "break-words" : "truncate"}`}
      >
        <span aria-hidden="true">{style.glyph} </span>
        <span className="tabular-nums">{time}</span>{" "}
        {/* a month's cell is narrow: the title first, the platform in the tooltip and for screen readers
            (a phone's list of days has the room) */}
        <span className={`font-medium ${week ? "" : "sm:sr-only"}`}>{platform}</span> {title}
        <span className="sr-only">
          {" "}
          ({c.kinds[kind]}
          {kind === "other" ? `: ${t.status[post.status] ?? post.status}` : ""}, {post.account_id})
        </span>
      </Link>
      {movable ? (
        <Link href={moveHref} draggable={false} className={`shrink-0 font-medium text-inherit ${week ? "self-end" : ""}`}>
          <span aria-hidden="true">{c.move}</span>
          <span className="sr-only">{fmt(c.moveLabel, { title, platform })}</span>
        </Link>
      ) : null}
    </li>
  );
}
