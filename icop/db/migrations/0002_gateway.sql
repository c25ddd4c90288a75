-- Gateway state shared by every gateway process: per-tenant request counters (fixed windows), plus
-- the lookup that `icop keys rotate` needs to find which tenants hold credentials.

CREATE TABLE rate_limit_counters (
  tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  window_start  timestamptz NOT NULL,
  hits          integer NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, window_start)
);
SELECT icop_enable_tenant_rls('rate_limit_counters');

-- Refresh-token rotation looks up one token by its hash within a tenant.
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (tenant_id, user_id);
CREATE INDEX posts_article_idx ON posts (tenant_id, article_id);
CREATE INDEX api_credentials_tenant_idx ON api_credentials (tenant_id, created_at DESC);

-- Key rotation walks tenant by tenant; this answers only which tenants hold credentials (ids only).
CREATE FUNCTION vault_credential_tenants() RETURNS SETOF uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$ SELECT DISTINCT tenant_id FROM api_credentials $$;
GRANT SELECT (tenant_id) ON api_credentials TO icop_auth;
ALTER FUNCTION vault_credential_tenants() OWNER TO icop_auth;
REVOKE ALL ON FUNCTION vault_credential_tenants() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vault_credential_tenants() TO icop_app;
