const TONES: Record<string, string> = {
  green: "bg-green-100 text-green-900 border-green-300",
  red: "bg-red-100 text-red-900 border-red-300",
  amber: "bg-amber-100 text-amber-950 border-amber-300",
  blue: "bg-blue-100 text-blue-900 border-blue-300",
  slate: "bg-slate-100 text-slate-800 border-slate-300",
};

const TONE_OF: Record<string, keyof typeof TONES> = {
  active: "green",
  completed: "green",
  published: "green",
  approved: "green",
  ready: "green",
  done: "green",
  delivered: "green",
  planned: "blue",
  running: "blue",
  writing: "blue",
  planning: "blue",
  publishing: "blue",
  sending: "blue",
  pending: "slate",
  paused: "slate",
  cancelled: "slate",
  dry_run: "slate",
  unknown: "slate",
  awaiting_approval: "amber",
  waiting_quota: "amber",
  needs_reauth: "amber",
  failed: "red",
  rejected: "red",
  revoked: "red",
  invalid: "red",
  dead: "red",
};

/** A status as a coloured pill with its label in words (never colour alone). */
export function StatusBadge({ status, labels }: { status: string; labels: Record<string, string> }) {
  const tone = TONES[TONE_OF[status] ?? "slate"];
  return (
    <span className={`inline-block rounded-full border px-2 py-0.5 text-xs font-medium whitespace-nowrap ${tone}`}>
      {labels[status] ?? status}
    </span>
  );
}
