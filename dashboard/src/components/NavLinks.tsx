"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";

export interface NavItem {
  href: string;
  label: string;
  /** A count shown next to the label (e.g. articles awaiting approval), with its meaning for screen readers. */
  badge?: { text: string; label: string };
}

/** The main navigation; the current section is marked with aria-current. */
export function NavLinks({ items, label }: { items: NavItem[]; label: string }) {
  const pathname = usePathname();
  return (
    <nav aria-label={label} className="border-b border-slate-200 bg-white">
      <ul className="mx-auto flex max-w-6xl flex-wrap gap-x-1 gap-y-1 px-2 py-2 sm:px-6">
        {items.map((item) => {
          const current = item.href === "/" ? pathname === "/" : pathname.startsWith(item.href);
          return (
            <li key={item.href}>
              <Link
                href={item.href}
                aria-current={current ? "page" : undefined}
                className={`block rounded-md px-3 py-1.5 text-sm no-underline hover:no-underline ${
                  current ? "bg-blue-700 text-white" : "text-slate-800 hover:bg-slate-100"
                }`}
              >
                {item.label}
                {item.badge ? (
                  <span className="ml-1.5 inline-block rounded-full bg-amber-300 px-1.5 text-xs font-semibold text-slate-950 tabular-nums">
                    <span aria-hidden="true">{item.badge.text}</span>
                    <span className="sr-only"> ({item.badge.label})</span>
                  </span>
                ) : null}
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
