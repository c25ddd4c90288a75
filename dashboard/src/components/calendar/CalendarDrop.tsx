"use client";

import { useRouter } from "next/navigation";
import { useRef, useState, useTransition } from "react";
import { reschedulePost } from "@/app/actions/editing";
import type { FormState } from "@/components/form-state";
import { ErrorMessage, Notice } from "@/components/Messages";

const OVER = ["ring-2", "ring-blue-700", "bg-blue-50"];

/**
 * Drag and drop on the calendar: a scheduled post (an element with `data-post`, `data-article` and
 * `data-time`, the post's wall-clock time in the tenant's zone) dropped on another day (an element with
 * `data-day`) is moved to that day at the same time, through the same server action as the Move form.
 * The grid itself stays server-rendered; keyboard and screen-reader users move posts with the form.
 */
export function CalendarDrop({
  timeZone,
  moving,
  children,
}: {
  timeZone: string;
  moving: string;
  children: React.ReactNode;
}) {
  const router = useRouter();
  const [state, setState] = useState<FormState>({});
  const [pending, start] = useTransition();
  const dragged = useRef<{ post: string; article: string; time: string; day: string } | null>(null);
  const over = useRef<HTMLElement | null>(null);

  const dayOf = (target: EventTarget | null) =>
    target instanceof Element ? target.closest<HTMLElement>("[data-day]") : null;
  const mark = (cell: HTMLElement | null) => {
    if (over.current === cell) return;
    over.current?.classList.remove(...OVER);
    cell?.classList.add(...OVER);
    over.current = cell;
  };

  return (
    <div
      onDragStart={(e) => {
        const item = e.target instanceof Element ? e.target.closest<HTMLElement>("[data-post]") : null;
        const { post, article, time } = item?.dataset ?? {};
        const day = dayOf(item)?.dataset.day;
        if (!item || !post || !article || !time || !day) return;
        dragged.current = { post, article, time, day };
        e.dataTransfer.effectAllowed = "move";
        e.dataTransfer.setData("text/plain", post);
      }}
      onDragOver={(e) => {
        const cell = dayOf(e.target);
        if (!dragged.current || !cell) return;
        e.preventDefault(); // a drop target
        e.dataTransfer.dropEffect = "move";
        mark(cell);
      }}
      onDragLeave={(e) => {
        if (!dayOf(e.relatedTarget)) mark(null);
      }}
      onDragEnd={() => {
        mark(null);
        dragged.current = null;
      }}
      onDrop={(e) => {
        const cell = dayOf(e.target);
        const from = dragged.current;
        mark(null);
        dragged.current = null;
        const day = cell?.dataset.day;
        if (!from || !day || day === from.day) return;
        e.preventDefault();
        const data = new FormData();
        data.set("publish_at", `${day}T${from.time}`);
        start(async () => {
          setState(await reschedulePost(from.article, from.post, timeZone, {}, data));
          router.refresh();
        });
      }}
    >
      <div className="mb-2 space-y-2 empty:hidden">
        {pending ? (
          <p role="status" className="text-sm text-slate-700">
            {moving}
          </p>
        ) : null}
        {!pending ? <ErrorMessage>{state.error}</ErrorMessage> : null}
        {!pending ? <Notice>{state.notice}</Notice> : null}
      </div>
      {children}
    </div>
  );
}
