import { hint as hintCls, input, label as labelCls } from "./ui";

/** A labelled input with an optional hint (linked by aria-describedby). */
export function Field({
  id,
  label,
  hint,
  className,
  ...props
}: { id: string; label: string; hint?: string; className?: string } & React.InputHTMLAttributes<HTMLInputElement>) {
  return (
    <div className={className}>
      <label htmlFor={id} className={labelCls}>
        {label}
      </label>
      <input id={id} className={`${input} mt-1`} aria-describedby={hint ? `${id}-hint` : undefined} {...props} />
      {hint ? (
        <p id={`${id}-hint`} className={hintCls}>
          {hint}
        </p>
      ) : null}
    </div>
  );
}
