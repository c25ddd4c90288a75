/** Who is signed in, their tenant, and what their role may do. */
import { cache } from "react";
import { api } from "./client";
import { unwrap } from "./errors";
import type { Me, Role, Tenant } from "./types";

export const getMe = cache(async (): Promise<Me> => unwrap((await api()).GET("/v1/auth/me")));

export const getTenant = cache(async (): Promise<Tenant> => unwrap((await api()).GET("/v1/tenant")));

const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2 };

/** Whether `role` is at least `needed` (the gateway enforces the same order). */
export function can(role: string, needed: Role): boolean {
  return (RANK[role as Role] ?? -1) >= RANK[needed];
}
