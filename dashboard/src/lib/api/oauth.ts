/** Connecting accounts through each platform's OAuth flow (the gateway holds the secrets): the social
 * platforms the tenant publishes to, and Google, whose account the plan sheets are read and written as. */
import { publicUrl } from "../env";
import { api } from "./client";
import { SOCIAL } from "./social";
import type { SocialPlatform } from "./types";

export type OAuthPlatform = SocialPlatform | "google";
export const OAUTH_PLATFORMS: OAuthPlatform[] = ["google", ...SOCIAL];

export function isOAuthPlatform(v: string): v is OAuthPlatform {
  return (OAUTH_PLATFORMS as string[]).includes(v);
}

/** Where the platform sends the browser back: this dashboard's callback page. */
export function redirectUri(platform: OAuthPlatform): string {
  return `${publicUrl()}/accounts/callback/${platform}`;
}

export async function oauthStart(platform: OAuthPlatform) {
  return (await api()).POST("/v1/credentials/oauth/{platform}/start", {
    params: { path: { platform } },
    body: { redirect_uri: redirectUri(platform) },
  });
}

export async function oauthCallback(platform: OAuthPlatform, body: { code?: string; state: string; error?: string }) {
  return (await api()).POST("/v1/credentials/oauth/{platform}/callback", { params: { path: { platform } }, body });
}
