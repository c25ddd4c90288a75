"use client";

import { useActionState } from "react";
import type { FormState } from "./form-state";
import { ErrorMessage, Notice } from "./Messages";

/**
 * A form over a list with checkboxes (bulk approve, bulk retry), bound to a server action; its outcome
 * is shown above the list, where it stays in view after a long table.
 */
export function BulkForm({
  action,
  children,
  className,
}: {
  action: (state: FormState, data: FormData) => Promise<FormState>;
  children: React.ReactNode;
  className?: string;
}) {
  const [state, formAction] = useActionState(action, {});
  return (
    <form action={formAction} className={className}>
      <div className="mb-3 space-y-2 empty:hidden">
        <ErrorMessage>{state.error}</ErrorMessage>
        <Notice>{state.notice}</Notice>
      </div>
      {children}
    </form>
  );
}
