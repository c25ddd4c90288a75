-- Sign-in throttling counts in sliding windows: an attempt is weighed against the hits of the current fixed
-- window plus the previous window's hits scaled by how much of it still lies inside the last window's span
-- (the sliding-window counter). Fixed windows alone let a sprayer spend twice the limit across a window's
-- edge, and reset an address's count at every edge. The function now answers both windows' hits and how far
-- into the current one it is; gateway/auth/throttle.py weighs them and computes the Retry-After.
DROP FUNCTION auth_throttle_hit(bytea[], integer);

CREATE FUNCTION auth_throttle_hit(p_buckets bytea[], p_window_s integer)
  RETURNS TABLE (bucket bytea, hits integer, previous_hits integer, elapsed_s double precision)
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
#variable_conflict use_column
DECLARE
  span interval := make_interval(secs => p_window_s);
  w timestamptz := date_bin(make_interval(secs => p_window_s), now(), timestamptz 'epoch');
BEGIN
  IF random() < 0.01 THEN  -- keep the table small without a separate job (the previous window is kept)
    DELETE FROM auth_throttle t WHERE t.window_start < now() - 2 * span;
  END IF;
  RETURN QUERY
    WITH counted AS (
      INSERT INTO auth_throttle AS t (bucket, window_start, hits)
      SELECT b, w, 1 FROM unnest(p_buckets) AS b
      ON CONFLICT (bucket, window_start) DO UPDATE SET hits = t.hits + 1
      RETURNING t.bucket, t.hits
    )
    SELECT c.bucket, c.hits, coalesce(p.hits, 0), extract(epoch FROM now() - w)::double precision
      FROM counted c
      LEFT JOIN auth_throttle p ON p.bucket = c.bucket AND p.window_start = w - span;
END $$;
ALTER FUNCTION auth_throttle_hit(bytea[], integer) OWNER TO icop_auth;
REVOKE ALL ON FUNCTION auth_throttle_hit(bytea[], integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_throttle_hit(bytea[], integer) TO icop_app;
