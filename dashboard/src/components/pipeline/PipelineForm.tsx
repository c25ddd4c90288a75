"use client";

import Link from "next/link";
import { useActionState, useState } from "react";
import { isSocial } from "@/lib/api/social";
import type { Credential, GoogleIdentity, ModelKey, Pipeline } from "@/lib/api/types";
import type { Locale } from "@/lib/format";
import type { Dict } from "@/lib/i18n/en";
import { fmt } from "@/lib/i18n/fmt";
import { DEFAULT_NOTE_COLUMN, NOTE_COLUMNS, PLAN_RANGE, type FirstPage } from "@/lib/plans";
import { WRITERS, writerName } from "@/lib/writers";
import type { FormState } from "../form-state";
import { ErrorMessage } from "../Messages";
import { SubmitButton } from "../SubmitButton";
import { hint, input, label, panel } from "../ui";
import { CronPreview } from "./CronPreview";
import { PlanFileCheck } from "./PlanFileCheck";
import { PlanHelp } from "./PlanHelp";
import { SheetPicker } from "./SheetPicker";

/** Create or edit a pipeline: plan source, schedule, writing, publishing. */
export function PipelineForm({
  action,
  pipeline,
  accounts,
  modelKeys,
  google,
  firstPage,
  connectGoogle,
  connectError,
  t,
  lang,
  defaultTimezone,
  zones,
}: {
  action: (state: FormState, data: FormData) => Promise<FormState>;
  pipeline?: Pipeline;
  accounts: Credential[];
  /** The tenant's own model keys (their state says what choosing "your own key" would do now). */
  modelKeys: ModelKey[];
  /** The Google identity sheets are read as, and the first page of its spreadsheets. */
  google: GoogleIdentity;
  firstPage: FirstPage;
  /** Connect (or reconnect) Google and come back to this form. */
  connectGoogle: (data: FormData) => Promise<void>;
  connectError?: string;
  t: Dict;
  lang: Locale;
  defaultTimezone: string;
  zones: string[];
}) {
  const [state, formAction] = useActionState(action, {});
  const [source, setSource] = useState<"sheet" | "file">(
    pipeline && pipeline.source_kind !== "sheet" ? "file" : "sheet",
  );
  const p = t.pipelines;
  const pl = t.plan;
  const lt = t.learning;
  const writers = new Set(pipeline?.writers ?? ["gpt", "claude", "gemini"]);
  const targets = new Set((pipeline?.targets ?? []).map((x) => `${x.platform}:${x.account_id}`));
  const social = accounts.filter((a) => isSocial(a.platform) && a.status !== "revoked");
  const savedColumn = pipeline?.settings?.status_note_column;
  const noteColumn = typeof savedColumn === "string" ? savedColumn.toUpperCase() : DEFAULT_NOTE_COLUMN;
  const currentFile =
    pipeline && pipeline.source_kind && pipeline.source_kind !== "sheet" && pipeline.plan_object_key
      ? { kind: pipeline.source_kind }
      : null;

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
              {(["sheet", "file"] as const).map((k) => (
                <label key={k} className="flex items-center gap-2 text-sm">
                  <input
                    type="radio"
                    name="plan_source"
                    value={k}
                    checked={source === k}
                    onChange={() => setSource(k)}
                  />
                  {k === "file" ? p.sourceFile : p.sourceSheet}
                </label>
              ))}
            </div>
          </fieldset>
          {source === "sheet" ? (
            <SheetPicker
              identity={google}
              firstPage={firstPage}
              t={t}
              lang={lang}
              tz={defaultTimezone}
              defaultSheetId={pipeline?.sheet_id ?? ""}
              defaultRange={pipeline?.sheet_range ?? PLAN_RANGE}
              connectAction={connectGoogle}
              connectError={connectError}
            />
          ) : (
            <PlanFileCheck t={t} current={currentFile} />
          )}
          <div>
            <label htmlFor="status_note_column" className={label}>
              {pl.noteColumn}
            </label>
            <select
              id="status_note_column"
              name="status_note_column"
              className={`${input} mt-1 sm:w-48`}
              defaultValue={NOTE_COLUMNS.includes(noteColumn) ? noteColumn : ""}
              aria-describedby="status_note_column-hint"
            >
              <option value="">{pl.noteNone}</option>
              {NOTE_COLUMNS.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
            <p id="status_note_column-hint" className={hint}>
              {pl.noteColumnHint}
            </p>
          </div>
          <PlanHelp t={pl} />
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
          <fieldset aria-describedby="model-keys-hint">
            <legend className={label}>{p.writers}</legend>
            <div className="mt-2 space-y-2">
              {WRITERS.map((w) => {
                const own = modelKeys.find((k) => k.provider === w);
                const tenantLabel =
                  own?.state === "paused" ? p.keyTenantPaused : own?.state === "active" ? p.keyTenant : p.keyTenantNotSet;
                return (
                  <div key={w} className="flex flex-wrap items-center gap-x-4 gap-y-1">
                    <label className="flex w-28 items-center gap-2 text-sm">
                      <input type="checkbox" name="writers" value={w} defaultChecked={writers.has(w)} />
                      {writerName(w)}
                    </label>
                    <select
                      name={`model_key_${w}`}
                      aria-label={fmt(p.writerKey, { writer: writerName(w) })}
                      className={`${input} sm:w-64`}
                      defaultValue={pipeline?.model_keys?.[w] ?? "platform"}
                    >
                      <option value="platform">{p.keyPlatform}</option>
                      <option value="tenant">{tenantLabel}</option>
                    </select>
                  </div>
                );
              })}
            </div>
            <p id="model-keys-hint" className={hint}>
              {p.modelKeysHint} <Link href="/model-keys">{t.nav.modelKeys}</Link>
            </p>
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

      <section aria-labelledby="sec-learning" className={panel}>
        <h2 id="sec-learning">{lt.section}</h2>
        <div className="mt-4 space-y-4">
          <div>
            <label className="flex items-start gap-2 text-sm">
              <input
                type="checkbox"
                name="learn_topics"
                defaultChecked={pipeline?.learn_topics ?? false}
                aria-describedby="learn-topics-hint"
                className="mt-1"
              />
              {lt.topics}
            </label>
            <p id="learn-topics-hint" className={`${hint} ml-6`}>
              {lt.topicsHint}
            </p>
          </div>
          <div>
            <label htmlFor="explore_share" className={label}>
              {lt.exploreShare}
            </label>
            <input
              id="explore_share"
              name="explore_share"
              type="number"
              min={0}
              max={100}
              step={5}
              aria-describedby="explore-share-hint"
              className={`${input} mt-1 sm:w-48`}
              defaultValue={Math.round((pipeline?.explore_share ?? 0.3) * 100)}
            />
            <p id="explore-share-hint" className={hint}>
              {lt.exploreShareHint}
            </p>
          </div>
          <div>
            <label className="flex items-start gap-2 text-sm">
              <input
                type="checkbox"
                name="learn_times"
                defaultChecked={pipeline?.learn_times ?? false}
                aria-describedby="learn-times-hint"
                className="mt-1"
              />
              {lt.times}
            </label>
            <p id="learn-times-hint" className={`${hint} ml-6`}>
              {lt.timesHint}
            </p>
          </div>
        </div>
      </section>

      <ErrorMessage>{state.error}</ErrorMessage>
      <SubmitButton>{pipeline ? t.common.save : p.create}</SubmitButton>
    </form>
  );
}
