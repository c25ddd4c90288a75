-- Operator commands (`icop backfill` without --tenant, `icop schedules sync`) find pipelines without
-- knowing their tenant. Row-level security rightly refuses that to icop_app; these two lookups answer
-- only what the commands need (ids, crons, time zones, statuses: no names, sheets or targets), owned by
-- icop_auth like the sign-in lookups, so the operator commands run as the application role.
CREATE FUNCTION ops_pipeline_tenant(p_pipeline uuid) RETURNS uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$ SELECT tenant_id FROM content_pipelines WHERE id = p_pipeline $$;

CREATE FUNCTION ops_pipeline_schedules()
  RETURNS TABLE (tenant_id uuid, id uuid, cron text, timezone text, status text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$ SELECT tenant_id, id, cron, timezone, status FROM content_pipelines $$;

GRANT SELECT (id, tenant_id, cron, timezone, status) ON content_pipelines TO icop_auth;
ALTER FUNCTION ops_pipeline_tenant(uuid) OWNER TO icop_auth;
ALTER FUNCTION ops_pipeline_schedules() OWNER TO icop_auth;
REVOKE ALL ON FUNCTION ops_pipeline_tenant(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION ops_pipeline_schedules() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops_pipeline_tenant(uuid) TO icop_app;
GRANT EXECUTE ON FUNCTION ops_pipeline_schedules() TO icop_app;
