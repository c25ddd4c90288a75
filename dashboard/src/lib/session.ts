/**
 * Session cookies: the gateway's access and refresh tokens, each in an httpOnly cookie.
 *
 * The access cookie expires a minute before the token does; the middleware then trades the refresh
 * token for a new pair (`POST /v1/auth/refresh`, single use: reuse revokes the family). Requests that
 * arrive together with the same refresh token share one refresh, and its result is remembered for a
 * short grace period, so parallel requests (images, the event stream) never present a used token.
 */
import { apiUrl, secureCookies } from "./env";

export const ACCESS_COOKIE = "icop_at";
export const REFRESH_COOKIE = "icop_rt";
export const REFRESH_TTL_S = 30 * 24 * 3600;
const GRACE_MS = 30_000;

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  role: string;
}

export interface CookieOptions {
  httpOnly: true;
  secure: boolean;
  sameSite: "lax";
  path: "/";
  maxAge: number;
}

export interface CookieSink {
  set(name: string, value: string, options: CookieOptions): unknown;
}

export function cookieOptions(maxAge: number): CookieOptions {
  return { httpOnly: true, secure: secureCookies(), sameSite: "lax", path: "/", maxAge };
}

export function writeSession(sink: CookieSink, pair: TokenPair): void {
  sink.set(ACCESS_COOKIE, pair.access_token, cookieOptions(Math.max(30, pair.expires_in - 60)));
  sink.set(REFRESH_COOKIE, pair.refresh_token, cookieOptions(REFRESH_TTL_S));
}

export function clearSession(sink: CookieSink): void {
  sink.set(ACCESS_COOKIE, "", cookieOptions(0));
  sink.set(REFRESH_COOKIE, "", cookieOptions(0));
}

const inflight = new Map<string, Promise<TokenPair | null>>();

async function postRefresh(refreshToken: string): Promise<TokenPair | null> {
  try {
    const res = await fetch(`${apiUrl()}/v1/auth/refresh`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refresh_token: refreshToken }),
      cache: "no-store",
    });
    if (!res.ok) return null;
    return (await res.json()) as TokenPair;
  } catch {
    return null;
  }
}

/** A new token pair for `refreshToken`, or null when the session is over (log in again). */
export function refreshSession(refreshToken: string): Promise<TokenPair | null> {
  let pending = inflight.get(refreshToken);
  if (!pending) {
    pending = postRefresh(refreshToken);
    inflight.set(refreshToken, pending);
    void pending.finally(() => setTimeout(() => inflight.delete(refreshToken), GRACE_MS));
  }
  return pending;
}
