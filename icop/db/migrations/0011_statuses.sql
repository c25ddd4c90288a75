-- run_rows.status had no CHECK: it now lists exactly icop.statuses.RowStatus, like every other status
-- column (a test compares each CHECK with its enum).
ALTER TABLE run_rows ADD CONSTRAINT run_rows_status_check
  CHECK (status IN ('pending', 'planning', 'planned', 'writing', 'done', 'failed', 'invalid'));
