/** Settings read by the server at run time (never inlined at build time). */

function trimSlash(s: string): string {
  return s.replace(/\/+$/, "");
}

/** The gateway's base URL; the API lives under `/v1`. */
export function apiUrl(): string {
  return trimSlash(process.env.ICOP_API_URL ?? "http://127.0.0.1:8080");
}

/** `Secure` cookies unless `ICOP_DASHBOARD_SECURE_COOKIES=0` (embedded mode over plain http). */
export function secureCookies(): boolean {
  return process.env.ICOP_DASHBOARD_SECURE_COOKIES !== "0";
}

/** The dashboard's own origin: OAuth redirect URIs and the CSRF origin check. */
export function publicUrl(): string {
  return trimSlash(process.env.ICOP_DASHBOARD_PUBLIC_URL ?? "http://127.0.0.1:3000");
}
