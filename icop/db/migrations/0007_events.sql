-- Events and webhooks (issue 12): the transactional outbox, webhook endpoints, deliveries and attempts.
-- See docs/events.md for the event types and the delivery design.

-- One row per event, written in the same transaction as the state change it reports (icop.events.emit).
-- xid orders events for readers of the table (the SSE stream): a row is only read once every
-- transaction that started before it has ended, so a late commit is never skipped.
CREATE TABLE outbox (
  id           uuid PRIMARY KEY,
  seq          bigint GENERATED ALWAYS AS IDENTITY,
  xid          xid8 NOT NULL DEFAULT pg_current_xact_id(),
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  type         text NOT NULL CHECK (type ~ '^[a-z_]+(\.[a-z_]+)+$'),
  version      integer NOT NULL DEFAULT 1,
  occurred_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  payload      jsonb NOT NULL,
  sent_at      timestamptz,
  publish_attempts integer NOT NULL DEFAULT 0
);
CREATE INDEX outbox_unsent_idx ON outbox (tenant_id, seq) WHERE sent_at IS NULL;
CREATE INDEX outbox_stream_idx ON outbox (tenant_id, xid, seq);
SELECT icop_enable_tenant_rls('outbox');

-- The relay walks tenant by tenant; this answers only which tenants have unsent events (ids only).
CREATE FUNCTION outbox_pending_tenants() RETURNS SETOF uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$ SELECT DISTINCT tenant_id FROM outbox WHERE sent_at IS NULL $$;
GRANT SELECT (tenant_id, sent_at) ON outbox TO icop_auth;
ALTER FUNCTION outbox_pending_tenants() OWNER TO icop_auth;
REVOKE ALL ON FUNCTION outbox_pending_tenants() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION outbox_pending_tenants() TO icop_app;

CREATE TABLE webhook_endpoints (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id             uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  url                   text NOT NULL CHECK (length(url) <= 2048),
  description           text NOT NULL DEFAULT '',
  event_types           text[] NOT NULL DEFAULT '{}',  -- empty: every event type
  secret_enc            bytea NOT NULL,                 -- icop.vault, never returned after creation
  enabled               boolean NOT NULL DEFAULT true,
  disabled_reason       text,
  consecutive_failures  integer NOT NULL DEFAULT 0,
  failing_since         timestamptz,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_tenant_idx ON webhook_endpoints (tenant_id, created_at DESC);
SELECT icop_enable_tenant_rls('webhook_endpoints');

-- One row per event and endpoint: the durable retry schedule (next_attempt_at, polled by the worker).
CREATE TABLE webhook_deliveries (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  endpoint_id      uuid NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
  event_id         uuid NOT NULL,
  event_type       text NOT NULL,
  body             text NOT NULL,  -- the exact bytes that are signed and sent
  status           text NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'sending', 'delivered', 'dead')),
  attempts         integer NOT NULL DEFAULT 0,
  window_start     timestamptz NOT NULL DEFAULT now(),  -- retries stop window_s after this
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),  -- for 'sending': when the lease ends
  last_status_code integer,
  last_error       text,
  delivered_at     timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (tenant_id, next_attempt_at)
  WHERE status IN ('pending', 'sending');
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (tenant_id, endpoint_id, created_at DESC);
SELECT icop_enable_tenant_rls('webhook_deliveries');

CREATE TABLE webhook_attempts (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id         uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  delivery_id       uuid NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
  attempt           integer NOT NULL,
  started_at        timestamptz NOT NULL,
  status_code       integer,
  latency_ms        double precision NOT NULL,
  error             text,
  response_excerpt  text NOT NULL DEFAULT ''
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (tenant_id, delivery_id, attempt);
SELECT icop_enable_tenant_rls('webhook_attempts');

-- The delivery worker walks tenant by tenant; this answers only which tenants have attempts due.
CREATE FUNCTION webhook_due_tenants() RETURNS SETOF uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$ SELECT DISTINCT tenant_id FROM webhook_deliveries
        WHERE status IN ('pending', 'sending') AND next_attempt_at <= now() $$;
GRANT SELECT (tenant_id, status, next_attempt_at) ON webhook_deliveries TO icop_auth;
ALTER FUNCTION webhook_due_tenants() OWNER TO icop_auth;
REVOKE ALL ON FUNCTION webhook_due_tenants() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION webhook_due_tenants() TO icop_app;
