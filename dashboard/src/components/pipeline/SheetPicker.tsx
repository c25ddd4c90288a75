"use client";

import { useState } from "react";
import type { GoogleIdentity, SheetPreview, Spreadsheet, SpreadsheetPage } from "@/lib/api/types";
import { formatDate, type Locale } from "@/lib/format";
import type { Dict } from "@/lib/i18n/en";
import { fmt } from "@/lib/i18n/fmt";
import { googleErrorText, PLAN_RANGE, sheetIdOf, type FirstPage, type ProblemJson } from "@/lib/plans";
import { ErrorMessage } from "../Messages";
import { btn, btnSecondary, hint, input, label, muted } from "../ui";
import { PlanPreview } from "./PlanPreview";

/**
 * The Google Sheet source of a pipeline: the Google identity plans are read as (or a button to connect
 * one), the identity's spreadsheets to pick from, the sheet's link or id (what the pipeline stores), the
 * range, and "Check this sheet": the plan read as that identity, with each row's problems.
 */
export function SheetPicker({
  identity,
  firstPage,
  t,
  lang,
  tz,
  defaultSheetId,
  defaultRange,
  connectAction,
  connectError,
}: {
  identity: GoogleIdentity;
  firstPage: FirstPage;
  t: Dict;
  lang: Locale;
  tz: string;
  defaultSheetId: string;
  defaultRange: string;
  connectAction: (data: FormData) => Promise<void>;
  connectError?: string;
}) {
  const pl = t.plan;
  const [sheetId, setSheetId] = useState(defaultSheetId);
  const [range, setRange] = useState(defaultRange || PLAN_RANGE);
  const [items, setItems] = useState<Spreadsheet[]>(firstPage?.ok ? firstPage.page.items : []);
  const [cursor, setCursor] = useState<string | null | undefined>(firstPage?.ok ? firstPage.page.next_cursor : null);
  const [listError, setListError] = useState<string | null>(
    firstPage && !firstPage.ok ? googleErrorText(firstPage.status, firstPage.problem, pl, { email: identity.email }) : null,
  );
  const [loadingMore, setLoadingMore] = useState(false);
  const [preview, setPreview] = useState<SheetPreview | null>(null);
  const [previewError, setPreviewError] = useState<string | null>(null);
  const [checking, setChecking] = useState(false);
  const active = identity.connected && identity.status === "active";

  async function more() {
    if (!cursor) return;
    setLoadingMore(true);
    try {
      const res = await fetch(`/api/google/spreadsheets?${new URLSearchParams({ cursor })}`, { cache: "no-store" });
      const body = await res.json();
      if (res.ok) {
        const page = body as SpreadsheetPage;
        setItems((prev) => [...prev, ...page.items]);
        setCursor(page.next_cursor);
      } else {
        setListError(googleErrorText(res.status, body as ProblemJson, pl, { email: identity.email }));
      }
    } catch {
      setListError(pl.errNetwork);
    } finally {
      setLoadingMore(false);
    }
  }

  async function check() {
    const id = sheetIdOf(sheetId);
    setPreview(null);
    setPreviewError(null);
    if (!id) {
      setPreviewError(pl.chooseSheet);
      return;
    }
    setChecking(true);
    try {
      const q = new URLSearchParams({ range: range.trim() || PLAN_RANGE });
      const res = await fetch(`/api/google/spreadsheets/${encodeURIComponent(id)}/preview?${q}`, { cache: "no-store" });
      const body = await res.json();
      if (res.ok) setPreview(body as SheetPreview);
      else setPreviewError(googleErrorText(res.status, body as ProblemJson, pl, { email: identity.email, range }));
    } catch {
      setPreviewError(pl.errNetwork);
    } finally {
      setChecking(false);
    }
  }

  function pick(id: string) {
    setSheetId(id);
    setPreview(null);
    setPreviewError(null);
  }

  return (
    <div className="space-y-4">
      <div className="space-y-2 rounded-md border border-slate-200 bg-slate-50 p-3 text-sm" data-testid="google-identity">
        {!identity.connected ? (
          <>
            <p>{pl.notConnected}</p>
            <button type="submit" formAction={connectAction} formNoValidate className={btn}>
              {pl.connectGoogle}
            </button>
          </>
        ) : !active ? (
          <>
            <p>{fmt(pl.reconnectNeeded, { email: identity.email ?? "" })}</p>
            {identity.kind === "account" ? (
              <button type="submit" formAction={connectAction} formNoValidate className={btn}>
                {pl.reconnectGoogle}
              </button>
            ) : null}
          </>
        ) : (
          <p className="break-words">
            {fmt(identity.kind === "service_account" ? pl.serviceAccountAs : pl.googleAs, { email: identity.email ?? "" })}
          </p>
        )}
        {connectError ? <ErrorMessage>{fmt(pl.connectFailed, { reason: connectError })}</ErrorMessage> : null}
      </div>

      {active ? (
        <fieldset>
          <legend className={label}>{pl.yourSheets}</legend>
          {listError ? (
            <div className="mt-2 space-y-2">
              <ErrorMessage>{listError}</ErrorMessage>
              {identity.kind === "account" && !identity.can_list_spreadsheets ? (
                <button type="submit" formAction={connectAction} formNoValidate className={btnSecondary}>
                  {pl.reconnectGoogle}
                </button>
              ) : null}
            </div>
          ) : items.length === 0 ? (
            <p className={`mt-2 ${muted}`}>{pl.noSheets}</p>
          ) : (
            <ul className="mt-2 max-h-80 divide-y divide-slate-200 overflow-y-auto rounded-md border border-slate-300" data-testid="spreadsheets">
              {items.map((s) => (
                <li key={s.id}>
                  <label className="flex cursor-pointer items-start gap-3 px-3 py-2 text-sm hover:bg-slate-50">
                    <input
                      type="radio"
                      name="sheet_pick"
                      value={s.id}
                      checked={sheetIdOf(sheetId) === s.id}
                      onChange={() => pick(s.id)}
                      className="mt-1"
                    />
                    <span className="min-w-0">
                      <span className="block font-medium break-words">{s.name}</span>
                      <span className="block text-xs text-slate-600">
                        {fmt(pl.modified, { date: formatDate(s.modified_time, tz, lang) })}
                      </span>
                    </span>
                  </label>
                </li>
              ))}
            </ul>
          )}
          {cursor && !listError ? (
            <button type="button" className={`${btnSecondary} mt-2`} onClick={() => void more()} disabled={loadingMore}>
              {loadingMore ? pl.loading : pl.moreSheets}
            </button>
          ) : null}
        </fieldset>
      ) : null}

      <div className="grid gap-4 sm:grid-cols-2">
        <div>
          <label htmlFor="sheet_id" className={label}>
            {pl.sheetId}
          </label>
          <input
            id="sheet_id"
            name="sheet_id"
            className={`${input} mt-1 font-mono`}
            value={sheetId}
            onChange={(e) => pick(e.target.value)}
            aria-describedby="sheet_id-hint"
            autoComplete="off"
            required
          />
          <p id="sheet_id-hint" className={hint}>
            {pl.sheetIdHint}
          </p>
        </div>
        <div>
          <label htmlFor="sheet_range" className={label}>
            {pl.sheetRange}
          </label>
          <input
            id="sheet_range"
            name="sheet_range"
            className={`${input} mt-1 font-mono`}
            value={range}
            onChange={(e) => {
              setRange(e.target.value);
              setPreview(null);
            }}
            aria-describedby="sheet_range-hint"
            required
          />
          <p id="sheet_range-hint" className={hint}>
            {pl.sheetRangeHint}
          </p>
        </div>
      </div>

      <div>
        <button type="button" className={btnSecondary} onClick={() => void check()} disabled={checking}>
          {checking ? pl.checking : pl.checkSheet}
        </button>
        <div aria-live="polite">
          {previewError ? (
            <div className="mt-3">
              <ErrorMessage>{previewError}</ErrorMessage>
            </div>
          ) : null}
          {preview ? (
            <PlanPreview check={preview} t={pl} subtopicsTab={preview.has_subtopics_tab} readAs={preview.google_email} />
          ) : null}
        </div>
      </div>
    </div>
  );
}
