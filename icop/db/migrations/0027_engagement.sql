-- Engagement pulled back from the platforms (issue 26): a time series of each published post's metrics,
-- collected on a cadence that decays with the post's age (icop.insights), the post's collection state,
-- the thresholds a tenant is told about, and what the planner learnt from them.

-- One row per collection of one post's metrics. The common measures are columns (NULL: the platform
-- does not report it); `raw` keeps the platform's own metric names and values as returned.
CREATE TABLE post_metrics (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  post_id       uuid NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
  collected_at  timestamptz NOT NULL DEFAULT now(),
  age_s         integer NOT NULL CHECK (age_s >= 0),   -- the post's age at collection
  impressions   bigint CHECK (impressions >= 0),       -- views / impressions, as the platform counts them
  reach         bigint CHECK (reach >= 0),
  likes         bigint CHECK (likes >= 0),             -- likes or reactions
  comments      bigint CHECK (comments >= 0),          -- comments or replies
  shares        bigint CHECK (shares >= 0),            -- shares, reposts, retweets, quotes
  saves         bigint CHECK (saves >= 0),             -- saves or bookmarks
  clicks        bigint CHECK (clicks >= 0),
  engagement    bigint NOT NULL CHECK (engagement >= 0), -- likes + comments + shares + saves + clicks
  raw           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(raw) = 'object')
);
CREATE INDEX post_metrics_post_idx ON post_metrics (tenant_id, post_id, collected_at DESC);
SELECT icop_enable_tenant_rls('post_metrics');

-- A published post's collection: when it is next due (NULL: not scheduled), how many collections were
-- made, the latest figures (for sorting and charts without reading the series), and why collection
-- stopped ('stopped': the post was deleted on the platform or the account lost the permission).
ALTER TABLE posts
  ADD COLUMN metrics_state text NOT NULL DEFAULT 'none'
    CHECK (metrics_state IN ('none', 'collecting', 'done', 'stopped')),
  ADD COLUMN metrics_next_at timestamptz,
  ADD COLUMN metrics_collections integer NOT NULL DEFAULT 0,
  ADD COLUMN metrics_collected_at timestamptz,
  ADD COLUMN impressions bigint,
  ADD COLUMN engagement bigint,
  ADD COLUMN metrics_code text CHECK (metrics_code ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$'),
  ADD COLUMN metrics_params jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metrics_params) = 'object');
CREATE INDEX posts_metrics_due_idx ON posts (metrics_next_at) WHERE metrics_state = 'collecting';

-- Insights requests made per account (icop.insights.budget), reserved before they are sent: what the
-- platforms' rate limits count (Meta counts them with publishing's calls), and on X what the reads cost
-- (the tenant's monthly X budget covers publishing and reading alike).
CREATE TABLE insights_requests (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  platform      text NOT NULL CHECK (platform IN ('facebook', 'instagram', 'threads', 'x')),
  account_id    text NOT NULL,
  requested_at  timestamptz NOT NULL DEFAULT now(),
  calls         integer NOT NULL CHECK (calls > 0),
  posts         integer NOT NULL CHECK (posts >= 0),
  cost_usd      numeric(12, 4) NOT NULL DEFAULT 0 CHECK (cost_usd >= 0)
);
CREATE INDEX insights_requests_window_idx ON insights_requests (tenant_id, platform, account_id, requested_at);
SELECT icop_enable_tenant_rls('insights_requests');

-- `icop schedules sync` keeps one insights schedule per connected social account, across tenants: this
-- lookup answers only the accounts' ids (no names, tokens or scopes), like the pipeline lookups of 0009,
-- and whether the account has posts whose engagement is still being collected.
CREATE FUNCTION ops_insights_accounts()
  RETURNS TABLE (tenant_id uuid, platform text, account_id text, collecting boolean)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$ SELECT c.tenant_id, c.platform, c.account_id,
               EXISTS (SELECT 1 FROM posts p WHERE p.tenant_id = c.tenant_id AND p.platform = c.platform
                          AND p.account_id = c.account_id AND p.metrics_state = 'collecting')
          FROM api_credentials c WHERE c.platform IN ('facebook', 'instagram', 'threads', 'x') $$;
GRANT SELECT (tenant_id, platform, account_id) ON api_credentials TO icop_auth;
GRANT SELECT (tenant_id, platform, account_id, metrics_state) ON posts TO icop_auth;
ALTER FUNCTION ops_insights_accounts() OWNER TO icop_auth;
REVOKE ALL ON FUNCTION ops_insights_accounts() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops_insights_accounts() TO icop_app;

-- A tenant's engagement thresholds: an event (post.engagement_threshold) once per post and threshold
-- when a post's metric reaches the value.
CREATE TABLE engagement_thresholds (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  metric      text NOT NULL CHECK (metric IN ('impressions', 'engagement', 'likes', 'comments', 'shares')),
  value       bigint NOT NULL CHECK (value > 0),
  platform    text CHECK (platform IN ('facebook', 'instagram', 'threads', 'x')),  -- NULL: every platform
  created_at  timestamptz NOT NULL DEFAULT now()
);
SELECT icop_enable_tenant_rls('engagement_thresholds');

CREATE TABLE engagement_threshold_hits (
  tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  threshold_id  uuid NOT NULL REFERENCES engagement_thresholds(id) ON DELETE CASCADE,
  post_id       uuid NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
  value         bigint NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (threshold_id, post_id)
);
SELECT icop_enable_tenant_rls('engagement_threshold_hits');

-- Planning that learns (per pipeline, off by default): candidate sub-topics scored by the engagement of
-- the tenant's past articles near them, `explore_share` of the chosen ones kept for new angles; posting
-- times per platform following the tenant's best hours. Each chosen sub-topic keeps why it was chosen.
ALTER TABLE content_pipelines
  ADD COLUMN learn_topics boolean NOT NULL DEFAULT false,
  ADD COLUMN explore_share real NOT NULL DEFAULT 0.3 CHECK (explore_share >= 0 AND explore_share <= 1),
  ADD COLUMN learn_times boolean NOT NULL DEFAULT false;
ALTER TABLE subtopics
  ADD COLUMN choice jsonb CHECK (choice IS NULL OR jsonb_typeof(choice) = 'object');
-- A post sent at a learnt best hour rather than at once keeps why: {"mode": "best_hour", "at", "platform",
-- "timezone", "hour", "engagement_rate", "hour_posts", "overall_rate", "posts", "best_hours"}.
ALTER TABLE posts
  ADD COLUMN time_choice jsonb CHECK (time_choice IS NULL OR jsonb_typeof(time_choice) = 'object');
