-- The request counter gets one row per database connection (backend) instead of one per tenant and window:
-- every request of a tenant used to update the same row and wait for the previous request's transaction
-- to commit (its row lock is held to the end of the request's transaction). A connection serves one
-- transaction at a time, so its own row is never contended; the limit is checked against the sum.
ALTER TABLE rate_limit_counters ADD COLUMN backend integer NOT NULL DEFAULT 0;
ALTER TABLE rate_limit_counters DROP CONSTRAINT rate_limit_counters_pkey;
ALTER TABLE rate_limit_counters ADD PRIMARY KEY (tenant_id, window_start, backend);
