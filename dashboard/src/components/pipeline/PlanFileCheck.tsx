"use client";

import { useRef, useState } from "react";
import { checkPlanFile } from "@/app/actions/pipelines";
import type { PlanUpload, SourceKind } from "@/lib/api/types";
import type { Dict } from "@/lib/i18n/en";
import { fmt } from "@/lib/i18n/fmt";
import { ErrorMessage, Notice } from "../Messages";
import { btnSecondary, hint, input, label } from "../ui";
import { PlanPreview } from "./PlanPreview";

/**
 * A plan file (CSV or XLSX) for the pipeline: "Check this file" uploads it (checked and stored by the
 * gateway) and shows its rows and problems; the pipeline is then made with the stored file's key and kind
 * (hidden fields). Choosing another file forgets the check.
 */
export function PlanFileCheck({
  t,
  current,
}: {
  t: Dict;
  /** The pipeline's file plan when editing one (kept unless another file is chosen). */
  current?: { kind: SourceKind } | null;
}) {
  const pl = t.plan;
  const fileRef = useRef<HTMLInputElement>(null);
  const [upload, setUpload] = useState<PlanUpload | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [checking, setChecking] = useState(false);
  const kindName = (k: SourceKind) => (k === "xlsx" ? "XLSX" : "CSV");

  async function check() {
    setUpload(null);
    setError(null);
    const file = fileRef.current?.files?.[0];
    if (!file) {
      setError(pl.chooseFile);
      return;
    }
    const data = new FormData();
    data.append("plan_file", file, file.name);
    setChecking(true);
    try {
      const res = await checkPlanFile(data);
      if (res.ok) setUpload(res.upload);
      else setError(res.error);
    } catch {
      setError(pl.errNetwork);
    } finally {
      setChecking(false);
    }
  }

  return (
    <div className="space-y-3">
      <div>
        <label htmlFor="plan_file" className={label}>
          {pl.file}
        </label>
        <input
          ref={fileRef}
          id="plan_file"
          name="plan_file"
          type="file"
          accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
          className={`${input} mt-1`}
          aria-describedby="plan_file-hint"
          required={!current}
          onChange={() => {
            setUpload(null);
            setError(null);
          }}
        />
        <p id="plan_file-hint" className={hint}>
          {pl.fileHint} {current ? fmt(pl.fileCurrent, { kind: kindName(current.kind) }) : null}
        </p>
      </div>
      {upload ? (
        <>
          <input type="hidden" name="plan_object_key" value={upload.plan_object_key} />
          <input type="hidden" name="plan_kind" value={upload.source_kind} />
        </>
      ) : null}
      <button type="button" className={btnSecondary} onClick={() => void check()} disabled={checking}>
        {checking ? pl.checking : pl.checkFile}
      </button>
      <div aria-live="polite">
        {error ? <ErrorMessage>{error}</ErrorMessage> : null}
        {upload ? (
          <>
            <Notice>{pl.fileChecked}</Notice>
            <PlanPreview check={upload} t={pl} />
          </>
        ) : null}
      </div>
    </div>
  );
}
