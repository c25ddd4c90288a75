import Link from "next/link";
import { deletePipeline, setPipelineStatus, startRun } from "@/app/actions/pipelines";
import { ActionForm } from "@/components/ActionForm";
import { CostBars } from "@/components/cost/CostBars";
import { Notice } from "@/components/Messages";
import { PageHeader } from "@/components/PageHeader";
import { RunsTable } from "@/components/RunsTable";
import { StatusBadge } from "@/components/StatusBadge";
import { SubmitButton } from "@/components/SubmitButton";
import { btn, btnDanger, btnSecondary, input, label, panel } from "@/components/ui";
import { can, getMe, getTenant } from "@/lib/api/account";
import { pipelineRunCosts } from "@/lib/api/costs";
import { getPipeline, listRuns } from "@/lib/api/pipelines";
import { formatDate, formatUsd } from "@/lib/format";
import { fmt, getDict } from "@/lib/i18n";
import { DEFAULT_NOTE_COLUMN } from "@/lib/plans";
import { writerName } from "@/lib/writers";

export const dynamic = "force-dynamic";

const RUN_BARS = 12;

export default async function PipelinePage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<Record<string, string | undefined>>;
}) {
  const { id } = await params;
  const sp = await searchParams;
  const [{ t, lang }, me, tenant, pipeline] = await Promise.all([getDict(), getMe(), getTenant(), getPipeline(id)]);
  const [runs, costs] = await Promise.all([listRuns(pipeline.id, 20), pipelineRunCosts(pipeline.id)]);
  const started = new Map(runs.map((r) => [r.id, r.started_at ?? r.created_at]));
  // this month's runs that cost something, newest first (a run older than the listed ones: last)
  const runBars = costs.items
    .filter((c): c is typeof c & { id: string } => c.id !== null && Number(c.total_usd) > 0)
    .sort((a, b) => (started.get(b.id) ?? "").localeCompare(started.get(a.id) ?? ""))
    .slice(0, RUN_BARS)
    .map((c) => {
      const when = started.get(c.id);
      return {
        key: c.id,
        label: when ? formatDate(when, tenant.timezone, lang) : t.costs.earlierRun,
        href: `/runs/${c.id}`,
        usd: Number(c.total_usd),
      };
    });
  const p = t.pipelines;
  const editor = can(me.role, "editor");
  const paused = pipeline.status === "paused";
  const yesNo = (v: boolean | undefined) => (v ? p.yes : p.no);
  const saved = pipeline.settings?.status_note_column;
  const noteColumn = typeof saved === "string" ? saved.toUpperCase() : DEFAULT_NOTE_COLUMN;
  const fileKind = pipeline.source_kind === "csv" || pipeline.source_kind === "xlsx" ? pipeline.source_kind : null;

  return (
    <>
      <PageHeader title={pipeline.name}>
        {editor ? (
          <>
            <Link href={`/pipelines/${pipeline.id}/edit`} className={btnSecondary}>
              {p.edit}
            </Link>
            <ActionForm action={setPipelineStatus.bind(null, pipeline.id, paused ? "active" : "paused")}>
              <SubmitButton className={btnSecondary}>{paused ? p.resume : p.pause}</SubmitButton>
            </ActionForm>
          </>
        ) : null}
      </PageHeader>
      <div className="mb-4 space-y-2">
        {sp.created ? <Notice>{p.created}</Notice> : null}
        {sp.saved ? <Notice>{t.common.saved}</Notice> : null}
        {sp.plan_rows ? (
          <Notice>{fmt(p.planUploaded, { rows: sp.plan_rows, problems: sp.plan_problems ?? "0" })}</Notice>
        ) : null}
      </div>

      <div className="grid gap-4 lg:grid-cols-3">
        <section aria-labelledby="settings-h" className={`${panel} lg:col-span-2`}>
          <h2 id="settings-h">{p.details}</h2>
          <dl className="mt-4 grid grid-cols-1 gap-x-6 gap-y-3 text-sm sm:grid-cols-2">
            <div>
              <dt className="text-slate-600">{t.common.status}</dt>
              <dd>
                <StatusBadge status={pipeline.status ?? "active"} labels={t.status} />
              </dd>
            </div>
            <div>
              <dt className="text-slate-600">{p.source}</dt>
              <dd className="break-all">
                {fileKind === null ? (
                  `${p.sourceSheet}: ${pipeline.sheet_id} (${pipeline.sheet_range})`
                ) : (
                  <>
                    <span>{fileKind === "xlsx" ? p.sourceXlsx : p.sourceCsv}</span>
                    <span className="mt-1 flex flex-wrap gap-x-4 gap-y-1">
                      <a href={`/api/pipelines/${pipeline.id}/plan`} download>
                        {t.plan.downloadResults}
                      </a>
                      {fileKind === "csv" ? (
                        <a href={`/api/pipelines/${pipeline.id}/plan?tab=Subtopics`} download>
                          {t.plan.downloadSubtopics}
                        </a>
                      ) : null}
                    </span>
                    <span className="mt-1 block text-xs text-slate-600">{t.plan.downloadHint}</span>
                  </>
                )}
              </dd>
            </div>
            <div>
              <dt className="text-slate-600">{t.plan.noteColumn}</dt>
              <dd>{noteColumn || t.plan.noteNone}</dd>
            </div>
            <div>
              <dt className="text-slate-600">{p.schedule}</dt>
              <dd className="font-mono">{pipeline.cron ? `${pipeline.cron} (${pipeline.timezone})` : p.noSchedule}</dd>
            </div>
            <div>
              <dt className="text-slate-600">{p.mode}</dt>
              <dd>{pipeline.mode === "merge" ? p.modeMerge : p.modeCompare}</dd>
            </div>
            <div>
              <dt className="text-slate-600">{p.writers}</dt>
              <dd data-testid="pipeline-writers">
                {(pipeline.writers ?? [])
                  .map((w) => `${writerName(w)} (${pipeline.model_keys?.[w] === "tenant" ? p.keyTenant : p.keyPlatform})`)
                  .join(", ")}
              </dd>
            </div>
            <div>
              <dt className="text-slate-600">{p.imageProvider}</dt>
              <dd>{pipeline.image_provider}</dd>
            </div>
            <div>
              <dt className="text-slate-600">{p.targets}</dt>
              <dd>
                {(pipeline.targets ?? []).length === 0
                  ? t.common.none
                  : (pipeline.targets ?? [])
                      .map((x) => `${t.platforms[x.platform] ?? x.platform}: ${x.account_id}`)
                      .join(", ")}
              </dd>
            </div>
            <div>
              <dt className="text-slate-600">{p.approval}</dt>
              <dd>{yesNo(pipeline.approval_required)}</dd>
            </div>
            <div>
              <dt className="text-slate-600">{p.dryRun}</dt>
              <dd>{yesNo(pipeline.dry_run)}</dd>
            </div>
            <div>
              <dt className="text-slate-600">{p.subtopics}</dt>
              <dd>{pipeline.subtopics_per_topic}</dd>
            </div>
            <div>
              <dt className="text-slate-600">{t.learning.topics}</dt>
              <dd>
                {yesNo(pipeline.learn_topics ?? false)}
                {pipeline.learn_topics ? ` · ${t.learning.exploreShare}: ${Math.round((pipeline.explore_share ?? 0.3) * 100)}` : ""}
              </dd>
            </div>
            <div>
              <dt className="text-slate-600">{t.learning.times}</dt>
              <dd>{yesNo(pipeline.learn_times ?? false)}</dd>
            </div>
          </dl>
        </section>

        {editor ? (
          <div className="space-y-4">
            <section aria-labelledby="run-h" className={panel}>
              <h2 id="run-h">{p.startRun}</h2>
              <p className="mt-1 text-sm text-slate-700">{p.startRunHint}</p>
              <ActionForm action={startRun.bind(null, pipeline.id)} className="mt-3">
                <input type="hidden" name="kind" value="manual" />
                <SubmitButton>{p.startRun}</SubmitButton>
              </ActionForm>
            </section>
            <section aria-labelledby="backfill-h" className={panel}>
              <h2 id="backfill-h">{p.backfill}</h2>
              <p className="mt-1 text-sm text-slate-700">{p.backfillHint}</p>
              <ActionForm action={startRun.bind(null, pipeline.id)} className="mt-3 space-y-3">
                <input type="hidden" name="kind" value="backfill" />
                <div className="grid grid-cols-2 gap-3">
                  <div>
                    <label htmlFor="from_row" className={label}>
                      {p.fromRow}
                    </label>
                    <input id="from_row" name="from_row" type="number" min={1} className={`${input} mt-1`} />
                  </div>
                  <div>
                    <label htmlFor="to_row" className={label}>
                      {p.toRow}
                    </label>
                    <input id="to_row" name="to_row" type="number" min={1} className={`${input} mt-1`} />
                  </div>
                </div>
                <SubmitButton className={btn}>{p.startBackfill}</SubmitButton>
              </ActionForm>
            </section>
          </div>
        ) : null}
      </div>

      <section aria-labelledby="cost-h" className={`${panel} mt-4`}>
        <h2 id="cost-h">{t.costs.pipelineTitle}</h2>
        <p className="mt-2 text-lg font-semibold tabular-nums" data-testid="pipeline-cost">
          {formatUsd(costs.total_usd, lang, true)}
        </p>
        <h3 className="mt-4 text-sm font-semibold">{t.costs.perRun}</h3>
        {runBars.length === 0 ? (
          <p className="mt-2 text-sm text-slate-700">{t.costs.perRunNone}</p>
        ) : (
          <CostBars bars={runBars} label={t.costs.perRun} lang={lang} testId="run-costs" />
        )}
        <p className="mt-2 text-xs text-slate-600">{t.costs.basis}</p>
      </section>

      <section aria-labelledby="runs-h" className={`${panel} mt-4`}>
        <h2 id="runs-h">{p.runs}</h2>
        {runs.length === 0 ? (
          <p className="mt-2 text-sm text-slate-700">{p.noRuns}</p>
        ) : (
          <div className="mt-3">
            <RunsTable
              runs={runs.map((run) => ({ run, pipeline }))}
              t={t}
              lang={lang}
              tz={tenant.timezone}
              showPipeline={false}
            />
          </div>
        )}
      </section>

      {editor ? (
        <section aria-labelledby="danger-h" className={`${panel} mt-4`}>
          <h2 id="danger-h" className="sr-only">
            {p.deletePipeline}
          </h2>
          <details>
            <summary className={`${btnSecondary} cursor-pointer list-none`}>{p.deletePipeline}</summary>
            <p className="mt-3 text-sm text-slate-700">{p.deleteConfirm}</p>
            <ActionForm action={deletePipeline.bind(null, pipeline.id)} className="mt-3">
              <SubmitButton className={btnDanger}>{t.common.confirmDelete}</SubmitButton>
            </ActionForm>
          </details>
        </section>
      ) : null}
    </>
  );
}
