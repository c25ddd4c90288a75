"use client";

import { useActionState } from "react";
import type { FormState } from "./form-state";
import { ErrorMessage, Notice } from "./Messages";

/**
 * A form bound to a server action; shows the action's error, notice, or once-shown secret.
 * Works without JavaScript too (the action then runs as a plain form post).
 */
export function ActionForm({
  action,
  children,
  className,
  secretLabel,
}: {
  action: (state: FormState, data: FormData) => Promise<FormState>;
  children: React.ReactNode;
  className?: string;
  secretLabel?: string;
}) {
  const [state, formAction] = useActionState(action, {});
  return (
    <form action={formAction} className={className}>
      {children}
      <div className="mt-2 space-y-2 empty:hidden">
        <ErrorMessage>{state.error}</ErrorMessage>
        <Notice>{state.notice}</Notice>
        {state.secret ? (
          <div className="rounded-md border border-amber-400 bg-amber-50 p-3">
            <label className="block text-sm font-medium text-amber-950" htmlFor="once-secret">
              {secretLabel}
            </label>
            <input
              id="once-secret"
              readOnly
              value={state.secret}
              className="mt-1 block w-full rounded border border-amber-400 bg-white px-2 py-1 font-mono text-sm"
              onFocus={(e) => e.currentTarget.select()}
            />
          </div>
        ) : null}
      </div>
    </form>
  );
}
