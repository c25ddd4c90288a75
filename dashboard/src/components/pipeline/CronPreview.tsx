"use client";

import { useEffect, useState } from "react";
import { formatDate, type Locale } from "@/lib/format";
import { btnSecondary, hint as hintCls, input, label } from "../ui";

interface Labels {
  cron: string;
  cronHint: string;
  timezone: string;
  previewRuns: string;
  nextRuns: string;
  noSchedule: string;
}

/** Cron and time zone inputs with the next runs as the gateway computes them. */
export function CronPreview({
  labels,
  lang,
  defaultCron,
  defaultTimezone,
  zones,
}: {
  labels: Labels;
  lang: Locale;
  defaultCron: string;
  defaultTimezone: string;
  zones: string[];
}) {
  const [cron, setCron] = useState(defaultCron);
  const [tz, setTz] = useState(defaultTimezone);
  const [runs, setRuns] = useState<string[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function preview(c = cron, z = tz) {
    setError(null);
    if (!c.trim()) {
      setRuns(null);
      return;
    }
    const q = new URLSearchParams({ cron: c.trim(), timezone: z.trim() || "UTC" });
    try {
      const res = await fetch(`/api/cron-preview?${q}`, { cache: "no-store" });
      const body = (await res.json()) as { next_runs?: string[]; detail?: string; title?: string };
      if (!res.ok) {
        setRuns(null);
        setError(body.detail || body.title || `HTTP ${res.status}`);
      } else {
        setRuns(body.next_runs ?? []);
      }
    } catch {
      setError("network error");
    }
  }

  useEffect(() => {
    if (defaultCron) void preview(defaultCron, defaultTimezone);
    // only on first render: later previews follow the user's edits
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  return (
    <div className="space-y-4">
      <div className="grid gap-4 sm:grid-cols-2">
        <div>
          <label htmlFor="cron" className={label}>
            {labels.cron}
          </label>
          <input
            id="cron"
            name="cron"
            className={`${input} mt-1 font-mono`}
            value={cron}
            onChange={(e) => setCron(e.target.value)}
            onBlur={() => void preview()}
            placeholder="0 9 * * 1-5"
            aria-describedby="cron-hint"
            autoComplete="off"
          />
          <p id="cron-hint" className={hintCls}>
            {labels.cronHint}
          </p>
        </div>
        <div>
          <label htmlFor="timezone" className={label}>
            {labels.timezone}
          </label>
          <input
            id="timezone"
            name="timezone"
            className={`${input} mt-1`}
            value={tz}
            onChange={(e) => setTz(e.target.value)}
            onBlur={() => void preview()}
            list="timezones"
            autoComplete="off"
            required
          />
          <datalist id="timezones">
            {zones.map((z) => (
              <option key={z} value={z} />
            ))}
          </datalist>
        </div>
      </div>
      <div>
        <button type="button" className={btnSecondary} onClick={() => void preview()}>
          {labels.previewRuns}
        </button>
        <div aria-live="polite" className="mt-2 text-sm">
          {error ? (
            <p role="alert" className="text-red-800">
              {error}
            </p>
          ) : runs === null ? null : runs.length === 0 ? (
            <p>{labels.noSchedule}</p>
          ) : (
            <>
              <p className="font-medium">{labels.nextRuns}</p>
              <ul className="mt-1 list-disc pl-5" data-testid="next-runs">
                {runs.map((r) => (
                  <li key={r}>{formatDate(r, tz || "UTC", lang)}</li>
                ))}
              </ul>
            </>
          )}
        </div>
      </div>
    </div>
  );
}
