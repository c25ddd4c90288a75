/** A long value (an id, an account) cut to one line with "…"; the whole value is its title (on hover). */
export function Truncate({ text, className = "max-w-40" }: { text: string; className?: string }) {
  return (
    <span title={text} className={`block truncate ${className}`}>
      {text}
    </span>
  );
}
