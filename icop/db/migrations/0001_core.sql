-- Core schema. Every tenant-owned table has tenant_id NOT NULL, RLS ENABLEd and FORCEd, and one policy
-- on current_setting('app.tenant_id'), set per transaction by icop.db.tenant_tx and nowhere else.

-- The tenant of the current transaction, or NULL (never an error) when none is set.
CREATE FUNCTION icop_current_tenant() RETURNS uuid
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$;

-- Turn on forced row-level security with the tenant policy for one table.
CREATE FUNCTION icop_enable_tenant_rls(tbl regclass, col name DEFAULT 'tenant_id') RETURNS void
  LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
  EXECUTE format(
    'CREATE POLICY tenant_isolation ON %s USING (%I = icop_current_tenant()) WITH CHECK (%I = icop_current_tenant())',
    tbl, col, col);
END $$;

CREATE TABLE tenants (
  id          uuid PRIMARY KEY,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  plan        text NOT NULL DEFAULT 'starter' CHECK (plan IN ('starter', 'growth', 'enterprise')),
  timezone    text NOT NULL DEFAULT 'UTC',
  status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  settings    jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now()
);
SELECT icop_enable_tenant_rls('tenants', 'id');

CREATE TABLE users (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  email          text NOT NULL CHECK (email = lower(email) AND length(email) <= 320),
  display_name   text NOT NULL DEFAULT '',
  role           text NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
  password_hash  text NOT NULL,
  disabled_at    timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  last_login_at  timestamptz
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_tenant_idx ON users (tenant_id);
SELECT icop_enable_tenant_rls('users');

CREATE TABLE refresh_tokens (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  family_id   uuid NOT NULL,
  token_hash  bytea NOT NULL UNIQUE,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  revoked_at  timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (tenant_id, family_id);
SELECT icop_enable_tenant_rls('refresh_tokens');

CREATE TABLE api_keys (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name          text NOT NULL,
  prefix        text NOT NULL UNIQUE,
  key_hash      bytea NOT NULL,
  scopes        text[] NOT NULL DEFAULT '{}',
  created_by    uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz
);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id);
SELECT icop_enable_tenant_rls('api_keys');

CREATE TABLE api_credentials (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id          uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  platform           text NOT NULL CHECK (platform IN ('google', 'facebook', 'instagram', 'threads', 'x')),
  account_id         text NOT NULL,
  account_name       text NOT NULL DEFAULT '',
  access_token_enc   bytea NOT NULL,
  refresh_token_enc  bytea,
  scopes             text[] NOT NULL DEFAULT '{}',
  expires_at         timestamptz,
  status             text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'needs_reauth', 'revoked')),
  status_reason      text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, platform, account_id)
);
SELECT icop_enable_tenant_rls('api_credentials');

CREATE TABLE content_pipelines (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id            uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name                 text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  source_kind          text NOT NULL CHECK (source_kind IN ('sheet', 'csv')),
  sheet_id             text,
  sheet_range          text NOT NULL DEFAULT 'ContentPlan!A2:E',
  csv_object_key       text,
  cron                 text,
  timezone             text NOT NULL DEFAULT 'UTC',
  mode                 text NOT NULL DEFAULT 'compare' CHECK (mode IN ('compare', 'merge')),
  writers              text[] NOT NULL DEFAULT '{gpt,claude,gemini}',
  image_provider       text NOT NULL DEFAULT 'offline',
  targets              jsonb NOT NULL DEFAULT '[]',
  approval_required    boolean NOT NULL DEFAULT false,
  dry_run              boolean NOT NULL DEFAULT true,
  subtopics_per_topic  integer NOT NULL DEFAULT 5 CHECK (subtopics_per_topic BETWEEN 1 AND 50),
  settings             jsonb NOT NULL DEFAULT '{}',
  status               text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  CHECK ((source_kind = 'sheet' AND sheet_id IS NOT NULL) OR (source_kind = 'csv' AND csv_object_key IS NOT NULL))
);
CREATE INDEX content_pipelines_tenant_idx ON content_pipelines (tenant_id, created_at DESC);
SELECT icop_enable_tenant_rls('content_pipelines');

CREATE TABLE pipeline_runs (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  pipeline_id  uuid NOT NULL REFERENCES content_pipelines(id) ON DELETE CASCADE,
  kind         text NOT NULL CHECK (kind IN ('scheduled', 'manual', 'backfill')),
  status       text NOT NULL DEFAULT 'pending'
               CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
  workflow_id  text,
  progress     jsonb NOT NULL DEFAULT '{}',
  error        text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  started_at   timestamptz,
  finished_at  timestamptz
);
CREATE INDEX pipeline_runs_tenant_idx ON pipeline_runs (tenant_id, pipeline_id, created_at DESC);
SELECT icop_enable_tenant_rls('pipeline_runs');

-- One row per plan row and run: the per-row status a user sees (and the reason a bad row was skipped).
CREATE TABLE run_rows (
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  run_id      uuid NOT NULL REFERENCES pipeline_runs(id) ON DELETE CASCADE,
  row_number  integer NOT NULL,
  topic       text NOT NULL DEFAULT '',
  language    text,
  status      text NOT NULL DEFAULT 'pending',
  reason      text,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, row_number)
);
SELECT icop_enable_tenant_rls('run_rows');

CREATE TABLE subtopics (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  pipeline_id  uuid REFERENCES content_pipelines(id) ON DELETE SET NULL,
  run_id       uuid REFERENCES pipeline_runs(id) ON DELETE SET NULL,
  row_number   integer,
  main_topic   text NOT NULL,
  label        text NOT NULL,
  language     text NOT NULL DEFAULT 'en',
  keywords     text[] NOT NULL DEFAULT '{}',
  embedding    vector(384) NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subtopics_tenant_idx ON subtopics (tenant_id, created_at DESC);
CREATE INDEX subtopics_embedding_hnsw ON subtopics USING hnsw (embedding vector_cosine_ops);
SELECT icop_enable_tenant_rls('subtopics');

CREATE TABLE generated_articles (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  pipeline_id   uuid REFERENCES content_pipelines(id) ON DELETE SET NULL,
  run_id        uuid REFERENCES pipeline_runs(id) ON DELETE SET NULL,
  subtopic_id   uuid UNIQUE REFERENCES subtopics(id) ON DELETE SET NULL,
  language      text NOT NULL DEFAULT 'en',
  title         text NOT NULL DEFAULT '',
  status        text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'writing', 'awaiting_approval', 'approved', 'rejected',
                                  'ready', 'published', 'failed')),
  mode          text NOT NULL DEFAULT 'compare' CHECK (mode IN ('compare', 'merge')),
  markdown_key  text,
  markdown_url  text,
  seo           jsonb NOT NULL DEFAULT '{}',
  graph_state   jsonb NOT NULL DEFAULT '{}',
  error         text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX generated_articles_tenant_idx ON generated_articles (tenant_id, created_at DESC);
SELECT icop_enable_tenant_rls('generated_articles');

CREATE TABLE images (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  article_id   uuid REFERENCES generated_articles(id) ON DELETE CASCADE,
  position     integer NOT NULL DEFAULT 0,
  sha256       text NOT NULL,
  storage_key  text NOT NULL,
  url          text NOT NULL,
  width        integer NOT NULL,
  height       integer NOT NULL,
  size_bytes   integer NOT NULL,
  provider     text NOT NULL,
  prompt       text NOT NULL DEFAULT '',
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (article_id, position)
);
SELECT icop_enable_tenant_rls('images');

CREATE TABLE posts (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id         uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  article_id        uuid NOT NULL REFERENCES generated_articles(id) ON DELETE CASCADE,
  platform          text NOT NULL CHECK (platform IN ('facebook', 'instagram', 'threads', 'x')),
  account_id        text NOT NULL,
  status            text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'publishing', 'published', 'failed', 'waiting_quota',
                                      'needs_reauth', 'dry_run', 'unknown')),
  idempotency_key   text NOT NULL UNIQUE,
  text              text NOT NULL DEFAULT '',
  media_urls        text[] NOT NULL DEFAULT '{}',
  platform_post_id  text,
  permalink         text,
  attempts          integer NOT NULL DEFAULT 0,
  error             text,
  cost_usd          numeric(12, 4) NOT NULL DEFAULT 0,
  not_before        timestamptz,
  published_at      timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (article_id, platform, account_id)
);
CREATE INDEX posts_tenant_idx ON posts (tenant_id, created_at DESC);
SELECT icop_enable_tenant_rls('posts');

-- One row per reserved publish; a rolling window is a count over reserved_at.
CREATE TABLE platform_quota_usage (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  platform     text NOT NULL,
  account_id   text NOT NULL,
  post_id      uuid REFERENCES posts(id) ON DELETE SET NULL,
  reserved_at  timestamptz NOT NULL DEFAULT now(),
  released_at  timestamptz,
  cost_usd     numeric(12, 4) NOT NULL DEFAULT 0
);
CREATE INDEX platform_quota_usage_window_idx
  ON platform_quota_usage (tenant_id, platform, account_id, reserved_at) WHERE released_at IS NULL;
SELECT icop_enable_tenant_rls('platform_quota_usage');

-- Tokens and images used, per tenant, for cost accounting.
CREATE TABLE usage_records (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id          uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  article_id         uuid REFERENCES generated_articles(id) ON DELETE SET NULL,
  kind               text NOT NULL CHECK (kind IN ('llm', 'image', 'embedding')),
  provider           text NOT NULL,
  model              text NOT NULL DEFAULT '',
  operation          text NOT NULL DEFAULT '',
  prompt_tokens      integer NOT NULL DEFAULT 0,
  completion_tokens  integer NOT NULL DEFAULT 0,
  images             integer NOT NULL DEFAULT 0,
  created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX usage_records_tenant_idx ON usage_records (tenant_id, created_at DESC);
SELECT icop_enable_tenant_rls('usage_records');

CREATE TABLE audit_log (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  actor_id     uuid,
  actor_kind   text NOT NULL DEFAULT 'user' CHECK (actor_kind IN ('user', 'api_key', 'system')),
  action       text NOT NULL,
  target_type  text,
  target_id    text,
  detail       jsonb NOT NULL DEFAULT '{}',
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_tenant_idx ON audit_log (tenant_id, created_at DESC);
SELECT icop_enable_tenant_rls('audit_log');

-- Sign-in needs the tenant of an e-mail address or an API key prefix before any tenant is set.
-- These two functions answer only that (ids, never hashes or tokens); they run as icop_auth, the
-- one role with BYPASSRLS, which owns nothing else and cannot log in.
CREATE FUNCTION auth_user_tenant(p_email text) RETURNS uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$ SELECT tenant_id FROM users WHERE email = lower(p_email) $$;
CREATE FUNCTION auth_api_key_tenant(p_prefix text) RETURNS uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$ SELECT tenant_id FROM api_keys WHERE prefix = p_prefix $$;
GRANT SELECT (tenant_id, email) ON users TO icop_auth;
GRANT SELECT (tenant_id, prefix) ON api_keys TO icop_auth;
ALTER FUNCTION auth_user_tenant(text) OWNER TO icop_auth;
ALTER FUNCTION auth_api_key_tenant(text) OWNER TO icop_auth;
REVOKE ALL ON FUNCTION auth_user_tenant(text), auth_api_key_tenant(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_user_tenant(text), auth_api_key_tenant(text) TO icop_app;
