-- Each tenant's own model keys (bring your own key), one per provider: the key encrypted by the vault
-- (AES-256-GCM, the tenant, key row and provider as associated data), its last 4 characters for display.
-- A pipeline chooses, per provider, the platform's key (default) or the tenant's own.
CREATE TABLE model_keys (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id       uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  provider        text NOT NULL CHECK (provider IN ('gpt', 'claude', 'gemini')),
  key_enc         bytea NOT NULL,
  last4           text NOT NULL CHECK (length(last4) <= 4),
  verified_at     timestamptz,          -- the last check call the vendor answered (NULL: saved unchecked)
  last_error      text CHECK (length(last_error) <= 500),  -- the last refusal, kept after a resume
  last_error_at   timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, provider)
);
SELECT icop_enable_tenant_rls('model_keys');

-- A tenant key the vendor refused (401/403) or whose account is out of quota or credits: that tenant's use of
-- that provider is paused (its writer skipped, with this reason) until the key is replaced or the tenant
-- resumes it. Never replaced by the platform's key. The reason's code words it in the user's language.
CREATE TABLE model_key_pauses (
  tenant_id  uuid NOT NULL,
  provider   text NOT NULL,
  code       text NOT NULL CHECK (code ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$'),
  params     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(params) = 'object'),
  reason     text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  since      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, provider),
  FOREIGN KEY (tenant_id, provider) REFERENCES model_keys (tenant_id, provider) ON DELETE CASCADE
);
SELECT icop_enable_tenant_rls('model_key_pauses');

-- Per provider, the key a pipeline's writer uses: "platform" (the default, also for a provider not named) or
-- "tenant" (the tenant's own key above; when it is missing or paused that writer is skipped, never run on the
-- platform's key instead).
ALTER TABLE content_pipelines
  ADD COLUMN model_keys jsonb NOT NULL DEFAULT '{}' CHECK (
    jsonb_typeof(model_keys) = 'object' AND NOT jsonb_path_exists(model_keys,
      '$.keyvalue() ? (!(@.key == "gpt" || @.key == "claude" || @.key == "gemini")
                       || !(@.value == "platform" || @.value == "tenant"))'));

-- Key rotation walks every tenant holding a secret: this answers which tenants hold model keys (ids only).
CREATE FUNCTION vault_model_key_tenants() RETURNS SETOF uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$ SELECT DISTINCT tenant_id FROM model_keys $$;
GRANT SELECT (tenant_id) ON model_keys TO icop_auth;
ALTER FUNCTION vault_model_key_tenants() OWNER TO icop_auth;
REVOKE ALL ON FUNCTION vault_model_key_tenants() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vault_model_key_tenants() TO icop_app;
