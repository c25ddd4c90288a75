import { SOCIAL } from "@/lib/api/social";
import type { Dict } from "@/lib/i18n";

/** A filter form's platform choice: "any" (empty) or one of the social platforms, by name. */
export function PlatformSelect({
  id,
  value,
  any,
  t,
  className,
}: {
  id: string;
  value: string | undefined;
  any: string;
  t: Dict;
  className: string;
}) {
  return (
    <select id={id} name="platform" defaultValue={value ?? ""} className={className}>
      <option value="">{any}</option>
      {SOCIAL.map((p) => (
        <option key={p} value={p}>
          {t.platforms[p]}
        </option>
      ))}
    </select>
  );
}
