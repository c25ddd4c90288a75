-- Stable codes beside the English reasons a run stores, so that a client words them in its user's
-- language (the dashboard's message catalogue): a row skipped or failed (run_rows), a post that failed
-- or waits (posts). The English text stays for API consumers and logs.
ALTER TABLE run_rows
  ADD COLUMN reason_code text CHECK (reason_code ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$'),
  ADD COLUMN reason_params jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(reason_params) = 'object');

ALTER TABLE posts
  ADD COLUMN error_code text CHECK (error_code ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$'),
  ADD COLUMN error_params jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(error_params) = 'object');
