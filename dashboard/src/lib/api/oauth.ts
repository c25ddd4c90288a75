/** Connecting social accounts through each platform's OAuth flow (the gateway holds the secrets). */
import { publicUrl } from "../env";
import { api } from "./client";
import type { SocialPlatform } from "./types";

export const SOCIAL: SocialPlatform[] = ["facebook", "instagram", "threads", "x"];

export function isSocial(v: string): v is SocialPlatform {
  return (SOCIAL as string[]).includes(v);
}

/** Where the platform sends the browser back: this dashboard's callback page. */
export function redirectUri(platform: SocialPlatform): string {
  return `${publicUrl()}/accounts/callback/${platform}`;
}

export async function oauthStart(platform: SocialPlatform) {
  return (await api()).POST("/v1/credentials/oauth/{platform}/start", {
    params: { path: { platform } },
    body: { redirect_uri: redirectUri(platform) },
  });
}

export async function oauthCallback(platform: SocialPlatform, body: { code?: string; state: string; error?: string }) {
  return (await api()).POST("/v1/credentials/oauth/{platform}/callback", { params: { path: { platform } }, body });
}
