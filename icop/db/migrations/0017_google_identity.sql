-- Each tenant reads its sheets as its own Google account (OAuth tokens in api_credentials, encrypted by the
-- vault). When Google refuses that account's refresh token, the tenant's sheet pipelines are paused and say
-- why ("reconnect Google"); resuming a pipeline clears the reason.
ALTER TABLE content_pipelines ADD COLUMN status_reason text CHECK (length(status_reason) <= 500);
