"use client";

import { useActionState } from "react";
import type { FormState } from "./form-state";
import { ErrorMessage, Notice } from "./Messages";
import { SelectAll } from "./SelectAll";
import { SubmitButton } from "./SubmitButton";

/** The bar above the list: what to do, "select all" over the `ids` boxes, and the action's button. */
export interface BulkTools {
  hint: string;
  selectAll: string;
  submit: string;
}

/**
 * A form over a list with checkboxes (bulk approve, bulk retry), bound to a server action; its outcome
 * is shown above the list, where it stays in view after a long table. With `tools` (when the list has
 * something to act on), the bar to select and act comes first.
 */
export function BulkForm({
  action,
  children,
  className,
  tools,
}: {
  action: (state: FormState, data: FormData) => Promise<FormState>;
  children: React.ReactNode;
  className?: string;
  tools?: BulkTools | null;
}) {
  const [state, formAction] = useActionState(action, {});
  return (
    <form action={formAction} className={className}>
      <div className="mb-3 space-y-2 empty:hidden">
        <ErrorMessage>{state.error}</ErrorMessage>
        <Notice>{state.notice}</Notice>
      </div>
      {tools ? (
        <>
          <p className="mb-3 text-sm text-slate-700">{tools.hint}</p>
          <div className="mb-3 flex flex-wrap items-center gap-3">
            <SelectAll name="ids" label={tools.selectAll} />
            <SubmitButton>{tools.submit}</SubmitButton>
          </div>
        </>
      ) : null}
      {children}
    </form>
  );
}
