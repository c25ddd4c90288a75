/**
 * A table's horizontal scroll box (tables scroll sideways on a phone). It is focusable (tabIndex 0)
 * and a named region (the label: the table's heading), so keyboard users can reach and scroll it too
 * (axe: scrollable-region-focusable). A table of class `cards` (rows as cards on a phone) keeps the panel's
 * margins there (`cards`).
 */
export function ScrollTable({
  label,
  className = "",
  cards = false,
  children,
}: {
  label: string;
  className?: string;
  cards?: boolean;
  children: React.ReactNode;
}) {
  return (
    <div role="region" aria-label={label} tabIndex={0} className={`${cards ? "" : "-mx-4"} overflow-x-auto sm:mx-0 ${className}`}>
      {children}
    </div>
  );
}
