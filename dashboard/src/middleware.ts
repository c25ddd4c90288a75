/**
 * Session upkeep: an expired access token is renewed here with the refresh token (rotation), so server
 * components, actions and route handlers always find a fresh one in the cookies. The request's path goes
 * along (`x-icop-path`) so a page without a session can send the user to log in and back.
 *
 * No redirects here: Next 15 rewrites a middleware redirect's Location to its own idea of the host
 * ("localhost" when it serves 127.0.0.1), which loses the cookies; pages redirect instead (relative).
 */
import { NextResponse, type NextRequest } from "next/server";
import { ACCESS_COOKIE, REFRESH_COOKIE, clearSession, refreshSession, writeSession } from "./lib/session";

const PATH_HEADER = "x-icop-path";
const EXPIRED_HEADER = "x-icop-expired";

export async function middleware(req: NextRequest): Promise<NextResponse> {
  const headers = new Headers(req.headers);
  headers.set(PATH_HEADER, `${req.nextUrl.pathname}${req.nextUrl.search}`);
  headers.delete(EXPIRED_HEADER);
  const access = req.cookies.get(ACCESS_COOKIE)?.value;
  const refresh = req.cookies.get(REFRESH_COOKIE)?.value;
  if (access || !refresh) return NextResponse.next({ request: { headers } });

  const pair = await refreshSession(refresh);
  if (pair) {
    req.cookies.set(ACCESS_COOKIE, pair.access_token);
    req.cookies.set(REFRESH_COOKIE, pair.refresh_token);
    headers.set("cookie", req.cookies.toString());
    const res = NextResponse.next({ request: { headers } });
    writeSession(res.cookies, pair);
    return res;
  }
  // The session is over: forget the refresh token, here and in the browser.
  req.cookies.delete(REFRESH_COOKIE);
  headers.set("cookie", req.cookies.toString());
  headers.set(EXPIRED_HEADER, "1");
  const res = NextResponse.next({ request: { headers } });
  clearSession(res.cookies);
  return res;
}

export const config = {
  runtime: "nodejs",
  matcher: ["/((?!_next/static|_next/image|favicon.ico|icon.svg).*)"],
};
