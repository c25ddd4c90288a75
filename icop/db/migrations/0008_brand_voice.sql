-- Brand voice (issue 6, item 4): a tenant's sample texts and their embeddings (all-MiniLM-L6-v2,
-- 384-d, normalised). The article graph passes the samples closest to a sub-topic to the writers as
-- style guidance. A sample with a pipeline applies to that pipeline's articles only; without one, to
-- every article of the tenant. icop_app gets its privileges from the migrator's schema-wide grant.

CREATE TABLE brand_voice_samples (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  pipeline_id  uuid REFERENCES content_pipelines(id) ON DELETE CASCADE,
  language     text NOT NULL DEFAULT 'en' CHECK (language ~ '^[a-z]{2,3}(-[A-Za-z]{2,4})?$'),
  text         text NOT NULL CHECK (char_length(text) BETWEEN 20 AND 4000),
  embedding    vector(384) NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX brand_voice_samples_tenant_idx ON brand_voice_samples (tenant_id, created_at DESC, id DESC);
CREATE INDEX brand_voice_samples_embedding_hnsw
  ON brand_voice_samples USING hnsw (embedding vector_cosine_ops);
SELECT icop_enable_tenant_rls('brand_voice_samples');
