-- Security hardening: sheets bound to the tenant that connected them, live sessions for access tokens,
-- and sign-in throttling counters.

-- A sheet id belongs to the first tenant whose pipeline named it. Until each tenant reads its sheets with
-- its own Google identity, every tenant reaches every sheet through the platform's one identity, so the
-- binding is what keeps tenant B out of tenant A's plan. The table is tenant-owned (forced RLS): a tenant
-- sees only its own bindings; the primary key alone tells that an id is taken (by whom, nobody learns).
CREATE TABLE sheet_bindings (
  sheet_id    text PRIMARY KEY,
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  bound_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sheet_bindings_tenant_idx ON sheet_bindings (tenant_id);
SELECT icop_enable_tenant_rls('sheet_bindings');

-- Existing pipelines: each sheet goes to the tenant whose pipeline named it first. (The owner is subject
-- to forced RLS, so FORCE is lifted for this one statement inside the migration's transaction.)
ALTER TABLE content_pipelines NO FORCE ROW LEVEL SECURITY;
ALTER TABLE sheet_bindings NO FORCE ROW LEVEL SECURITY;
INSERT INTO sheet_bindings (sheet_id, tenant_id, bound_at)
SELECT DISTINCT ON (sheet_id) sheet_id, tenant_id, created_at
FROM content_pipelines WHERE sheet_id IS NOT NULL
ORDER BY sheet_id, created_at, id;
ALTER TABLE content_pipelines FORCE ROW LEVEL SECURITY;
ALTER TABLE sheet_bindings FORCE ROW LEVEL SECURITY;

-- Every pipeline's sheet must be bound to its tenant: the first one binds it, another tenant's is refused.
-- A trigger, so that no path (the API, a command, a script) can name another tenant's sheet. It runs as
-- the caller, under RLS: ON CONFLICT DO NOTHING skips an id bound to anyone, and the SELECT then sees the
-- row only if it is the caller's own.
CREATE FUNCTION icop_bind_sheet() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.sheet_id IS NULL THEN
    RETURN NEW;
  END IF;
  INSERT INTO sheet_bindings (sheet_id, tenant_id) VALUES (NEW.sheet_id, NEW.tenant_id)
    ON CONFLICT (sheet_id) DO NOTHING;
  IF NOT EXISTS (SELECT 1 FROM sheet_bindings WHERE sheet_id = NEW.sheet_id AND tenant_id = NEW.tenant_id) THEN
    RAISE EXCEPTION 'this sheet is connected to another account'
      USING ERRCODE = 'IC409', HINT = 'use a sheet of your own (make a copy of it)';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER content_pipelines_bind_sheet
  BEFORE INSERT OR UPDATE OF sheet_id, tenant_id ON content_pipelines
  FOR EACH ROW EXECUTE FUNCTION icop_bind_sheet();

-- Sign-in throttling (per account and per client address), before any tenant is known. The counters are
-- keyed by a hash and live in fixed windows. The table is not tenant-owned: RLS is forced with no policy,
-- so the application role sees and changes nothing directly; only this function (owned by icop_auth, like
-- the sign-in lookups) counts a hit and answers the count.
CREATE TABLE auth_throttle (
  bucket        bytea NOT NULL,
  window_start  timestamptz NOT NULL,
  hits          integer NOT NULL DEFAULT 0,
  PRIMARY KEY (bucket, window_start)
);
ALTER TABLE auth_throttle ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth_throttle FORCE ROW LEVEL SECURITY;

CREATE FUNCTION auth_throttle_hit(p_buckets bytea[], p_window_s integer)
  RETURNS TABLE (bucket bytea, hits integer, retry_after integer)
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
#variable_conflict use_column
DECLARE
  w timestamptz := date_bin(make_interval(secs => p_window_s), now(), timestamptz 'epoch');
BEGIN
  IF random() < 0.01 THEN  -- keep the table small without a separate job
    DELETE FROM auth_throttle t WHERE t.window_start < now() - make_interval(secs => 2 * p_window_s);
  END IF;
  RETURN QUERY
    INSERT INTO auth_throttle AS t (bucket, window_start, hits)
    SELECT b, w, 1 FROM unnest(p_buckets) AS b
    ON CONFLICT (bucket, window_start) DO UPDATE SET hits = t.hits + 1
    RETURNING t.bucket, t.hits,
              ceil(extract(epoch FROM t.window_start + make_interval(secs => p_window_s) - now()))::integer;
END $$;
GRANT SELECT, INSERT, UPDATE, DELETE ON auth_throttle TO icop_auth;
ALTER FUNCTION auth_throttle_hit(bytea[], integer) OWNER TO icop_auth;
REVOKE ALL ON FUNCTION auth_throttle_hit(bytea[], integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_throttle_hit(bytea[], integer) TO icop_app;

-- Access tokens name their login session (the refresh-token family); logout and refresh-token reuse end
-- the family and with it the session's access tokens. Each request checks its session with this index.
CREATE INDEX refresh_tokens_revoked_idx ON refresh_tokens (tenant_id, family_id) WHERE revoked_at IS NOT NULL;

-- Local object URLs named the host's path (file://…); they now name the key only.
ALTER TABLE generated_articles NO FORCE ROW LEVEL SECURITY;
ALTER TABLE images NO FORCE ROW LEVEL SECURITY;
ALTER TABLE posts NO FORCE ROW LEVEL SECURITY;
UPDATE generated_articles SET markdown_url = 'icop-object:' || substring(markdown_url FROM '(tenants/.*)$')
  WHERE markdown_url LIKE 'file:%' AND markdown_url ~ 'tenants/';
UPDATE images SET url = 'icop-object:' || substring(url FROM '(tenants/.*)$')
  WHERE url LIKE 'file:%' AND url ~ 'tenants/';
UPDATE posts SET media_urls = ARRAY(
    SELECT CASE WHEN u LIKE 'file:%' AND u ~ 'tenants/' THEN 'icop-object:' || substring(u FROM '(tenants/.*)$')
                ELSE u END
    FROM unnest(media_urls) AS u)
  WHERE EXISTS (SELECT 1 FROM unnest(media_urls) AS u WHERE u LIKE 'file:%');
ALTER TABLE generated_articles FORCE ROW LEVEL SECURITY;
ALTER TABLE images FORCE ROW LEVEL SECURITY;
ALTER TABLE posts FORCE ROW LEVEL SECURITY;
