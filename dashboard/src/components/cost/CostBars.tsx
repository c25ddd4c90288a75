import Link from "next/link";
import { formatUsd, type Locale } from "@/lib/format";

export interface CostBar {
  key: string;
  label: string;
  /** Where the bar leads (its run, its pipeline); none: a bar that names nothing one can open. */
  href?: string;
  usd: number;
}

/**
 * Costs as horizontal bars (a plain SVG each: no chart library), one per line so that long names and a
 * 390-px phone both fit. Each bar is a link with its name and amount as text, which is what a screen
 * reader reads; the bar itself is drawn for the eye only.
 */
export function CostBars({
  bars,
  label,
  lang,
  testId,
}: {
  bars: CostBar[];
  /** The list's accessible name (the chart's heading). */
  label: string;
  lang: Locale;
  testId?: string;
}) {
  const max = Math.max(0, ...bars.map((b) => b.usd));
  return (
    <ol aria-label={label} className="mt-2 space-y-1" data-testid={testId}>
      {bars.map((b) => {
        const inner = (
          <>
            <span className="flex items-baseline justify-between gap-3">
              <span title={b.label} className={`min-w-0 truncate ${b.href ? "underline" : ""}`}>
                {b.label}
              </span>{" "}
              <span className="shrink-0 tabular-nums text-slate-900">{formatUsd(b.usd, lang, true)}</span>
            </span>
            <svg
              viewBox="0 0 100 4"
              preserveAspectRatio="none"
              className="mt-1 block h-2.5 w-full"
              aria-hidden="true"
              focusable="false"
            >
              <rect width={100} height={4} className="fill-slate-100" />
              <rect width={max > 0 ? Math.max(0.5, (100 * b.usd) / max) : 0} height={4} className="fill-blue-700" />
            </svg>
          </>
        );
        return (
          <li key={b.key} className="text-sm">
            {b.href ? (
              <Link href={b.href} className="block rounded px-1 py-1 no-underline hover:bg-slate-50 hover:no-underline">
                {inner}
              </Link>
            ) : (
              <div className="px-1 py-1 text-slate-700">{inner}</div>
            )}
          </li>
        );
      })}
    </ol>
  );
}
