/** Connected accounts, API keys, webhooks and users. */
import { api } from "./client";
import { unwrap } from "./errors";
import type { ApiKey, Credential, ModelKey, User, Webhook } from "./types";

export async function listCredentials(): Promise<Credential[]> {
  return unwrap((await api()).GET("/v1/credentials"));
}

/** The tenant's own model keys, one per provider (masked; with why one is paused). */
export async function listModelKeys(): Promise<ModelKey[]> {
  return unwrap((await api()).GET("/v1/model-keys"));
}

export async function listApiKeys(): Promise<ApiKey[]> {
  return unwrap((await api()).GET("/v1/api-keys"));
}

export async function listWebhooks(): Promise<Webhook[]> {
  return unwrap((await api()).GET("/v1/webhooks"));
}

export async function getWebhook(id: string): Promise<Webhook> {
  return unwrap((await api()).GET("/v1/webhooks/{endpoint_id}", { params: { path: { endpoint_id: id } } }), {
    orNotFound: true,
  });
}

export async function listDeliveries(id: string) {
  return unwrap(
    (await api()).GET("/v1/webhooks/{endpoint_id}/deliveries", {
      params: { path: { endpoint_id: id }, query: { limit: 50 } },
    }),
    { orNotFound: true },
  );
}

export async function listUsers(): Promise<User[]> {
  return unwrap((await api()).GET("/v1/users"));
}
