/** The writers and their model vendors, by the names every language shares. */
export const WRITERS = ["gpt", "claude", "gemini"] as const;
export type WriterName = (typeof WRITERS)[number];

export const WRITER_NAMES: Record<string, string> = { gpt: "GPT", claude: "Claude", gemini: "Gemini" };
export const VENDOR_NAMES: Record<string, string> = { gpt: "OpenAI", claude: "Anthropic", gemini: "Google" };

export function writerName(writer: string): string {
  return WRITER_NAMES[writer] ?? writer;
}
