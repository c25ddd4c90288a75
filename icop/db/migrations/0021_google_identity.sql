-- Each tenant reads its sheets as its own Google account (OAuth tokens in api_credentials, encrypted by the
-- vault). When Google refuses that account's refresh token, the tenant's sheet pipelines are paused and say
-- why ("reconnect Google"); resuming a pipeline clears the reason.
ALTER TABLE content_pipelines ADD COLUMN status_reason text CHECK (length(status_reason) <= 500);

-- A tenant may read its sheets as a Google service account instead: its key file (JSON) is stored like a
-- token (encrypted by the vault), and the tenant shares its sheets with the account's e-mail.
ALTER TABLE api_credentials DROP CONSTRAINT api_credentials_platform_check;
ALTER TABLE api_credentials ADD CONSTRAINT api_credentials_platform_check
  CHECK (platform IN ('google', 'google_service_account', 'facebook', 'instagram', 'threads', 'x', 'tavily',
                      'naver'));
