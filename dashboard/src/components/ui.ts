/** Shared class names: one look for buttons, inputs and panels. Colours keep a 4.5:1 contrast. */
export const btn =
  "inline-flex items-center justify-center gap-2 rounded-md bg-blue-700 px-4 py-2 text-sm font-medium text-white hover:bg-blue-800 disabled:cursor-not-allowed disabled:opacity-60 no-underline hover:no-underline";
export const btnSecondary =
  "inline-flex items-center justify-center gap-2 rounded-md border border-slate-400 bg-white px-4 py-2 text-sm font-medium text-slate-900 hover:bg-slate-100 disabled:cursor-not-allowed disabled:opacity-60 no-underline hover:no-underline";
export const btnDanger =
  "inline-flex items-center justify-center gap-2 rounded-md bg-red-700 px-4 py-2 text-sm font-medium text-white hover:bg-red-800 disabled:cursor-not-allowed disabled:opacity-60";
export const input =
  "block w-full rounded-md border border-slate-400 bg-white px-3 py-2 text-sm text-slate-900 placeholder:text-slate-600";
export const label = "block text-sm font-medium text-slate-800";
export const hint = "mt-1 text-xs text-slate-600";
export const panel = "rounded-lg border border-slate-200 bg-white p-4 shadow-sm sm:p-6";
export const muted = "text-sm text-slate-600";
