"use client";

import { useFormStatus } from "react-dom";
import { btn } from "./ui";

/** A submit button that is disabled (and says so) while its form's action runs. */
export function SubmitButton({
  children,
  className = btn,
  name,
  value,
}: {
  children: React.ReactNode;
  className?: string;
  name?: string;
  value?: string;
}) {
  const { pending } = useFormStatus();
  return (
    <button type="submit" className={className} disabled={pending} aria-disabled={pending} name={name} value={value}>
      {children}
    </button>
  );
}
