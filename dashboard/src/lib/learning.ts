/** Planning that learns, in words: why a sub-topic was kept, why a post goes out when it does. */
import type { PostTimeChoice, SubtopicChoice } from "@/lib/api/types";
import { formatNumber, type Locale } from "@/lib/format";
import type { Dict } from "@/lib/i18n/en";
import { fmt } from "@/lib/i18n/fmt";

/** An engagement rate (0.061) as a percentage ("6.1%"). */
export function percent(rate: number | null | undefined, lang: Locale): string {
  return rate === null || rate === undefined ? "—" : `${formatNumber(rate * 100, lang, 1)}%`;
}

/** "Chosen because similar posts averaged 6.1% engagement (4 similar)", "New angle (exploration)", or
 * null for a sub-topic planned without learning. */
export function choiceText(choice: SubtopicChoice | null | undefined, t: Dict, lang: Locale): string | null {
  if (!choice) return null;
  const l = t.learning;
  if (choice.mode === "explore") return l.explore;
  if (choice.mode === "plain") return l.plain;
  return fmt(l.exploit, { rate: percent(choice.avg_engagement_rate, lang), n: formatNumber(choice.neighbours, lang) });
}

/** The past sub-topics a choice stands on: "Similar: latte art heart (8.0%), milk frothing (7.2%)". */
export function similarText(choice: SubtopicChoice | null | undefined, t: Dict, lang: Locale): string | null {
  const similar = choice?.mode === "exploit" ? (choice.similar ?? []) : [];
  if (similar.length === 0) return null;
  const labels = similar.map((s) => `${s.label} (${percent(s.engagement_rate, lang)})`).join(", ");
  return fmt(t.learning.similar, { labels });
}

/** "Scheduled for 20:00, the best hour on Threads: …" for a post sent at a learnt best hour. */
export function timeChoiceText(choice: PostTimeChoice | null | undefined, t: Dict, lang: Locale): string | null {
  if (!choice) return null;
  const platform = t.platforms[choice.platform as keyof typeof t.platforms] ?? choice.platform;
  return fmt(t.learning.bestHour, {
    hour: `${String(choice.hour).padStart(2, "0")}:00`,
    platform,
    rate: percent(choice.engagement_rate, lang),
    n: formatNumber(choice.hour_posts, lang),
    overall: percent(choice.overall_rate, lang),
  });
}
