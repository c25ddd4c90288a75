"use client";

/** A labelled checkbox that ticks (or clears) every enabled checkbox named `name` in its own form. */
export function SelectAll({ name, label }: { name: string; label: string }) {
  return (
    <label className="flex items-center gap-2 text-sm">
      <input
        type="checkbox"
        className="h-4 w-4"
        onChange={(e) => {
          const form = e.currentTarget.form;
          if (!form) return;
          for (const box of form.querySelectorAll<HTMLInputElement>(`input[type=checkbox][name="${name}"]`)) {
            if (!box.disabled) box.checked = e.currentTarget.checked;
          }
        }}
      />
      {label}
    </label>
  );
}
