-- Research: tenants may bring their own search keys (stored in api_credentials like social tokens: the
-- secret encrypted by the vault, Naver's client id as the account id), and fetched pages are cached per
-- tenant and URL with their HTTP validators, so a retried article does not fetch the same page again.

ALTER TABLE api_credentials DROP CONSTRAINT api_credentials_platform_check;
ALTER TABLE api_credentials ADD CONSTRAINT api_credentials_platform_check
  CHECK (platform IN ('google', 'facebook', 'instagram', 'threads', 'x', 'tavily', 'naver'));

CREATE TABLE research_pages (
  tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  url            text NOT NULL,
  status_code    integer NOT NULL,
  content_type   text NOT NULL DEFAULT '',
  etag           text,
  last_modified  text,
  body           text,                 -- the page as fetched (capped by ICOP_RESEARCH_FETCH_MAX_BYTES)
  fetched_at     timestamptz NOT NULL DEFAULT now(),
  expires_at     timestamptz NOT NULL, -- fresh until then (Cache-Control max-age, or the default TTL)
  PRIMARY KEY (tenant_id, url)
);
CREATE INDEX research_pages_expiry_idx ON research_pages (tenant_id, expires_at);
SELECT icop_enable_tenant_rls('research_pages');
