"use client";

import Link from "next/link";
import { useActionState, useState } from "react";
import type { Credential, Pipeline } from "@/lib/api/types";
import type { Locale } from "@/lib/format";
import type { Dict } from "@/lib/i18n";
import type { FormState } from "../form-state";
import { ErrorMessage } from "../Messages";
import { SubmitButton } from "../SubmitButton";
import { hint, input, label, panel } from "../ui";
import { CronPreview } from "./CronPreview";

const WRITERS = [
  ["gpt", "GPT"],
  ["claude", "Claude"],
  ["gemini", "Gemini"],
] as const;

/** Create or edit a pipeline: plan source, schedule, writing, publishing. */
export function PipelineForm({
  action,
  pipeline,
  accounts,
  t,
  lang,
  defaultTimezone,
  zones,
}: {
  action: (state: FormState, data: FormData) => Promise<FormState>;
  pipeline?: Pipeline;
  accounts: Credential[];
  t: Dict;
  lang: Locale;
  defaultTimezone: string;
  zones: string[];
}) {
  const [state, formAction] = useActionState(action, {});
  const [source, setSource] = useState<"sheet" | "csv">(pipeline?.source_kind ?? "sheet");
  const p = t.pipelines;
  const writers = new Set(pipeline?.writers ?? ["gpt", "claude", "gemini"]);
  const targets = new Set((pipeline?.targets ?? []).map((x) => `${x.platform}:${x.account_id}`));
  const social = accounts.filter((a) => a.platform !== "google" && a.status !== "revoked");

  return (
    <form action={formAction} className="space-y-6" encType="multipart/form-data">
      <section aria-labelledby="sec-plan" className={panel}>
        <h2 id="sec-plan">{p.source}</h2>
        <div className="mt-4 space-y-4">
          <div>
            <label htmlFor="name" className={label}>
              {p.name}
            </label>
            <input id="name" name="name" className={`${input} mt-1`} defaultValue={pipeline?.name ?? ""} required />
          </div>
          <fieldset>
            <legend className={label}>{p.sourceKind}</legend>
            <div className="mt-2 flex flex-wrap gap-4">
              {(["sheet", "csv"] as const).map((k) => (
                <label key={k} className="flex items-center gap-2 text-sm">
                  <input
                    type="radio"
                    name="source_kind"
                    value={k}
                    checked={source === k}
                    onChange={() => setSource(k)}
                  />
                  {k === "csv" ? p.sourceCsv : p.sourceSheet}
                </label>
              ))}
            </div>
          </fieldset>
          {source === "sheet" ? (
            <div className="grid gap-4 sm:grid-cols-2">
              <div>
                <label htmlFor="sheet_id" className={label}>
                  {p.sheetId}
                </label>
                <input
                  id="sheet_id"
                  name="sheet_id"
                  className={`${input} mt-1 font-mono`}
                  defaultValue={pipeline?.sheet_id ?? ""}
                  aria-describedby="sheet_id-hint"
                  required
                />
                <p id="sheet_id-hint" className={hint}>
                  {p.sheetIdHint}
                </p>
              </div>
              <div>
                <label htmlFor="sheet_range" className={label}>
                  {p.sheetRange}
                </label>
                <input
                  id="sheet_range"
                  name="sheet_range"
                  className={`${input} mt-1 font-mono`}
                  defaultValue={pipeline?.sheet_range ?? "ContentPlan!A2:E"}
                  required
                />
              </div>
            </div>
          ) : (
            <div>
              <label htmlFor="csv" className={label}>
                {p.csvFile}
              </label>
              <input
                id="csv"
                name="csv"
                type="file"
                accept=".csv,text/csv"
                className={`${input} mt-1`}
                aria-describedby="csv-hint"
                required={!pipeline?.csv_object_key}
              />
              <p id="csv-hint" className={hint}>
                {p.csvHint} {pipeline?.csv_object_key ? p.csvKeep : null}
              </p>
            </div>
          )}
        </div>
      </section>

      <section aria-labelledby="sec-schedule" className={panel}>
        <h2 id="sec-schedule">{p.schedule}</h2>
        <div className="mt-4">
          <CronPreview
            labels={p}
            lang={lang}
            defaultCron={pipeline?.cron ?? ""}
            defaultTimezone={pipeline?.timezone ?? defaultTimezone}
            zones={zones}
          />
        </div>
      </section>

      <section aria-labelledby="sec-writing" className={panel}>
        <h2 id="sec-writing">{p.writing}</h2>
        <div className="mt-4 space-y-4">
          <fieldset>
            <legend className={label}>{p.mode}</legend>
            <div className="mt-2 space-y-2">
              {(["compare", "merge"] as const).map((m) => (
                <label key={m} className="flex items-start gap-2 text-sm">
                  <input
                    type="radio"
                    name="mode"
                    value={m}
                    defaultChecked={(pipeline?.mode ?? "compare") === m}
                    className="mt-1"
                  />
                  {m === "compare" ? p.modeCompare : p.modeMerge}
                </label>
              ))}
            </div>
          </fieldset>
          <fieldset>
            <legend className={label}>{p.writers}</legend>
            <div className="mt-2 flex flex-wrap gap-4">
              {WRITERS.map(([w, name]) => (
                <label key={w} className="flex items-center gap-2 text-sm">
                  <input type="checkbox" name="writers" value={w} defaultChecked={writers.has(w)} />
                  {name}
                </label>
              ))}
            </div>
          </fieldset>
          <div className="grid gap-4 sm:grid-cols-2">
            <div>
              <label htmlFor="image_provider" className={label}>
                {p.imageProvider}
              </label>
              <select
                id="image_provider"
                name="image_provider"
                className={`${input} mt-1`}
                defaultValue={pipeline?.image_provider ?? "dalle"}
              >
                <option value="offline">{p.imageOffline}</option>
                <option value="dalle">{p.imageDalle}</option>
                <option value="flux">{p.imageFlux}</option>
              </select>
            </div>
            <div>
              <label htmlFor="subtopics_per_topic" className={label}>
                {p.subtopics}
              </label>
              <input
                id="subtopics_per_topic"
                name="subtopics_per_topic"
                type="number"
                min={1}
                max={50}
                className={`${input} mt-1`}
                defaultValue={pipeline?.subtopics_per_topic ?? 5}
                required
              />
            </div>
          </div>
        </div>
      </section>

      <section aria-labelledby="sec-publish" className={panel}>
        <h2 id="sec-publish">{p.publishing}</h2>
        <div className="mt-4 space-y-4">
          <fieldset>
            <legend className={label}>{p.targets}</legend>
            {social.length === 0 ? (
              <p className="mt-2 text-sm text-slate-700">
                {p.noAccounts} <Link href="/accounts">{p.connectFirst}</Link>
              </p>
            ) : (
              <div className="mt-2 space-y-2">
                {social.map((a) => {
                  const key = `${a.platform}:${a.account_id}`;
                  const platform = t.platforms[a.platform as keyof typeof t.platforms] ?? a.platform;
                  return (
                    <label key={key} className="flex items-start gap-2 text-sm">
                      <input
                        type="checkbox"
                        name="targets"
                        value={key}
                        defaultChecked={targets.has(key)}
                        className="mt-1"
                      />
                      <span>
                        {platform} — {a.account_name || a.account_id}
                      </span>
                    </label>
                  );
                })}
              </div>
            )}
          </fieldset>
          <label className="flex items-start gap-2 text-sm">
            <input
              type="checkbox"
              name="approval_required"
              defaultChecked={pipeline?.approval_required ?? false}
              className="mt-1"
            />
            {p.approval}
          </label>
          <label className="flex items-start gap-2 text-sm">
            <input type="checkbox" name="dry_run" defaultChecked={pipeline?.dry_run ?? false} className="mt-1" />
            {p.dryRun}
          </label>
        </div>
      </section>

      <ErrorMessage>{state.error}</ErrorMessage>
      <SubmitButton>{pipeline ? t.common.save : p.create}</SubmitButton>
    </form>
  );
}
