"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import type { FormState } from "@/components/form-state";
import { api } from "@/lib/api/client";
import { attempt } from "@/lib/api/errors";
import type { Role } from "@/lib/api/types";
import { getDict } from "@/lib/i18n";

function str(data: FormData, name: string): string {
  const v = data.get(name);
  return typeof v === "string" ? v.trim() : "";
}

const ROLES: Role[] = ["admin", "editor", "viewer"];

// ---- API keys ----

export async function createApiKey(_: FormState, data: FormData): Promise<FormState> {
  const scopes = data.getAll("scopes").map(String).filter((s): s is "read" | "write" => s === "read" || s === "write");
  const res = await attempt(
    (await api()).POST("/v1/api-keys", { body: { name: str(data, "name"), scopes: scopes.length ? scopes : ["read"] } }),
  );
  if (!res.ok) return { error: res.error };
  revalidatePath("/api-keys");
  return { secret: res.data.key };
}

export async function revokeApiKey(id: string, _: FormState): Promise<FormState> {
  const res = await attempt((await api()).DELETE("/v1/api-keys/{key_id}", { params: { path: { key_id: id } } }));
  if (!res.ok) return { error: res.error };
  revalidatePath("/api-keys");
  return {};
}

// ---- webhooks ----

export async function createWebhook(_: FormState, data: FormData): Promise<FormState> {
  const types = str(data, "event_types")
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  const res = await attempt(
    (await api()).POST("/v1/webhooks", {
      body: { url: str(data, "url"), description: str(data, "description"), event_types: types },
    }),
  );
  if (!res.ok) return { error: res.error };
  revalidatePath("/webhooks");
  return { secret: res.data.secret };
}

export async function setWebhookEnabled(id: string, enabled: boolean, _: FormState): Promise<FormState> {
  const res = await attempt(
    (await api()).PATCH("/v1/webhooks/{endpoint_id}", { params: { path: { endpoint_id: id } }, body: { enabled } }),
  );
  if (!res.ok) return { error: res.error };
  revalidatePath(`/webhooks/${id}`);
  revalidatePath("/webhooks");
  return {};
}

export async function deleteWebhook(id: string, _: FormState): Promise<FormState> {
  const res = await attempt(
    (await api()).DELETE("/v1/webhooks/{endpoint_id}", { params: { path: { endpoint_id: id } } }),
  );
  if (!res.ok) return { error: res.error };
  revalidatePath("/webhooks");
  redirect("/webhooks");
}

export async function redeliver(endpointId: string, deliveryId: string, _: FormState): Promise<FormState> {
  const { t } = await getDict();
  const res = await attempt(
    (await api()).POST("/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver", {
      params: { path: { endpoint_id: endpointId, delivery_id: deliveryId } },
    }),
  );
  if (!res.ok) return { error: res.error };
  revalidatePath(`/webhooks/${endpointId}`);
  return { notice: t.webhooks.redelivered };
}

// ---- users ----

export async function createUser(_: FormState, data: FormData): Promise<FormState> {
  const { t } = await getDict();
  const role = str(data, "role") as Role;
  const res = await attempt(
    (await api()).POST("/v1/users", {
      body: {
        email: str(data, "email"),
        display_name: str(data, "display_name"),
        password: String(data.get("password") ?? ""),
        role: ROLES.includes(role) ? role : "viewer",
      },
    }),
  );
  if (!res.ok) return { error: res.error };
  revalidatePath("/users");
  return { notice: t.common.saved };
}

export async function updateUser(id: string, _: FormState, data: FormData): Promise<FormState> {
  const role = str(data, "role") as Role;
  const disabled = str(data, "disabled");
  const body: { role?: Role; disabled?: boolean } = {};
  if (ROLES.includes(role)) body.role = role;
  if (disabled === "true" || disabled === "false") body.disabled = disabled === "true";
  const res = await attempt(
    (await api()).PATCH("/v1/users/{user_id}", { params: { path: { user_id: id } }, body }),
  );
  if (!res.ok) return { error: res.error };
  revalidatePath("/users");
  return {};
}

// ---- tenant ----

export async function updateTenant(_: FormState, data: FormData): Promise<FormState> {
  const { t } = await getDict();
  const res = await attempt(
    (await api()).PATCH("/v1/tenant", { body: { name: str(data, "name"), timezone: str(data, "timezone") } }),
  );
  if (!res.ok) return { error: res.error };
  revalidatePath("/", "layout");
  return { notice: t.common.saved };
}
