/** The typed gateway client for server components, server actions and route handlers. */
import createClient, { type Client } from "openapi-fetch";
import { cookies } from "next/headers";
import { apiUrl } from "../env";
import { ACCESS_COOKIE } from "../session";
import type { paths } from "./schema";

export type Api = Client<paths>;

/** A client that sends `token` as the bearer token (or none: sign-up and login). */
export function clientWith(token?: string): Api {
  return createClient<paths>({
    baseUrl: apiUrl(),
    headers: token ? { Authorization: `Bearer ${token}` } : {},
    cache: "no-store",
  });
}

/** The session's access token (from the httpOnly cookie), if any. */
export async function accessToken(): Promise<string | undefined> {
  return (await cookies()).get(ACCESS_COOKIE)?.value;
}

/** A client acting as the signed-in user. */
export async function api(): Promise<Api> {
  return clientWith(await accessToken());
}
