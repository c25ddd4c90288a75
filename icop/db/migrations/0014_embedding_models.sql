-- Every stored vector records the embedding model that made it (icop.embeddings: the model id, e.g.
-- 'all-MiniLM-L6-v2' or 'multilingual-e5-small-q4/centred-v1'), and queries compare only vectors of one
-- model: two models' 384-d vectors live in different spaces. Rows stored before this migration were all
-- made by all-MiniLM-L6-v2. A sub-topic also keeps the candidates closest to its centre, so that
-- `icop embeddings reembed` can rebuild its vector under another model (older rows: label and keywords).

ALTER TABLE subtopics ADD COLUMN embedding_model text NOT NULL DEFAULT 'all-MiniLM-L6-v2';
ALTER TABLE subtopics ADD COLUMN examples text[] NOT NULL DEFAULT '{}';
ALTER TABLE brand_voice_samples ADD COLUMN embedding_model text NOT NULL DEFAULT 'all-MiniLM-L6-v2';

CREATE INDEX subtopics_tenant_model_idx ON subtopics (tenant_id, embedding_model);
CREATE INDEX brand_voice_samples_tenant_model_idx ON brand_voice_samples (tenant_id, embedding_model, language);

-- `icop embeddings reembed` without --tenant: the tenants that have stored vectors (ids only), a lookup
-- across tenants like the operator lookups of 0009.
GRANT SELECT (tenant_id) ON subtopics TO icop_auth;
GRANT SELECT (tenant_id) ON brand_voice_samples TO icop_auth;
CREATE FUNCTION ops_tenants_with_vectors() RETURNS TABLE (tenant_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$ SELECT tenant_id FROM subtopics UNION SELECT tenant_id FROM brand_voice_samples $$;
ALTER FUNCTION ops_tenants_with_vectors() OWNER TO icop_auth;
REVOKE ALL ON FUNCTION ops_tenants_with_vectors() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops_tenants_with_vectors() TO icop_app;
