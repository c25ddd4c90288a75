"use client";

import { useActionState, useEffect, useRef } from "react";
import type { FormState } from "./form-state";
import { ErrorMessage } from "./Messages";
import { SubmitButton } from "./SubmitButton";

/** A form that submits itself once on load (the button stays for when scripts are off or it failed). */
export function AutoSubmit({
  action,
  fields,
  button,
  pendingText,
}: {
  action: (state: FormState, data: FormData) => Promise<FormState>;
  fields: Record<string, string>;
  button: string;
  pendingText: string;
}) {
  const [state, formAction, pending] = useActionState(action, {});
  const form = useRef<HTMLFormElement>(null);
  const sent = useRef(false);
  useEffect(() => {
    if (!sent.current) {
      sent.current = true;
      form.current?.requestSubmit();
    }
  }, []);
  return (
    <form ref={form} action={formAction} className="space-y-3">
      {Object.entries(fields).map(([k, v]) => (
        <input key={k} type="hidden" name={k} value={v} />
      ))}
      <p role="status" className="text-sm text-slate-700">
        {pending ? pendingText : ""}
      </p>
      <ErrorMessage>{state.error}</ErrorMessage>
      <SubmitButton>{button}</SubmitButton>
    </form>
  );
}
