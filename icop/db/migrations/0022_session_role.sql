-- The rule for a live login session, in one place: the user's role if the user is active and the login
-- session (refresh-token family) was issued to that user and has no revoked token; NULL otherwise. A plain
-- SQL function (security invoker): it reads under the caller's row-level security, and it is inlined, so
-- the gateway checks the session inside the statement that counts the request (one round trip).
CREATE FUNCTION session_role(p_tenant uuid, p_user uuid, p_session uuid) RETURNS text
  LANGUAGE sql STABLE AS $$
    SELECT u.role FROM users u
    WHERE u.tenant_id = p_tenant AND u.id = p_user AND u.disabled_at IS NULL
      AND EXISTS (SELECT 1 FROM refresh_tokens r
                  WHERE r.tenant_id = p_tenant AND r.family_id = p_session AND r.user_id = p_user)
      AND NOT EXISTS (SELECT 1 FROM refresh_tokens r
                      WHERE r.tenant_id = p_tenant AND r.family_id = p_session AND r.revoked_at IS NOT NULL)
  $$;
REVOKE ALL ON FUNCTION session_role(uuid, uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION session_role(uuid, uuid, uuid) TO icop_app;
