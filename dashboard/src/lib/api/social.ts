/** The social platforms the tenant publishes to (safe in client components). */
import type { SocialPlatform } from "./types";

export const SOCIAL: SocialPlatform[] = ["facebook", "instagram", "threads", "x"];

export function isSocial(v: string): v is SocialPlatform {
  return (SOCIAL as string[]).includes(v);
}
