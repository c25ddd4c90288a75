-- Syndication (issue 8): per-account limit overrides, and the indexes the publisher's queries use.
-- Quota reservations live in platform_quota_usage (0001); posts holds one row per
-- article x platform x account (0001).

-- Per-account overrides of the platform limits in settings (keys: icop.social.limits.PlatformLimits fields).
CREATE TABLE social_account_limits (
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  platform    text NOT NULL CHECK (platform IN ('facebook', 'instagram', 'threads', 'x')),
  account_id  text NOT NULL,
  limits      jsonb NOT NULL DEFAULT '{}',
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, platform, account_id)
);
SELECT icop_enable_tenant_rls('social_account_limits');

-- The X monthly budget sums a tenant's reservations over the calendar month, across accounts.
CREATE INDEX platform_quota_usage_tenant_month_idx
  ON platform_quota_usage (tenant_id, platform, reserved_at) WHERE released_at IS NULL;
-- Releasing and reusing a post's reservation.
CREATE INDEX platform_quota_usage_post_idx ON platform_quota_usage (post_id) WHERE released_at IS NULL;
-- Finding posts that are due again (waiting for quota, retry later, unknown after a lost answer).
CREATE INDEX posts_due_idx ON posts (tenant_id, not_before)
  WHERE status IN ('pending', 'waiting_quota', 'unknown', 'publishing');

-- Set when a send got no answer (or a worker died mid-call): the post may exist on the platform, so
-- it is looked up there before anything is sent again, whatever status the row moves through meanwhile.
ALTER TABLE posts ADD COLUMN reconcile_required boolean NOT NULL DEFAULT false;
