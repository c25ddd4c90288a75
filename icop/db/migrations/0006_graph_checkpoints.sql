-- Agent graph (issue 6): LangGraph checkpoints in PostgreSQL, so a graph whose process dies resumes
-- after its last finished node (and after each finished writer within a step) instead of paying the
-- LLMs again. Written by graphs.article.checkpoint.PgCheckpointSaver, always inside tenant_tx.

CREATE TABLE graph_checkpoints (
  tenant_id             uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  thread_id             text NOT NULL,
  checkpoint_ns         text NOT NULL DEFAULT '',
  checkpoint_id         text NOT NULL,
  parent_checkpoint_id  text,
  checkpoint_type       text NOT NULL,
  checkpoint            bytea NOT NULL,   -- serde-typed checkpoint, channel values included
  metadata              jsonb NOT NULL DEFAULT '{}',
  created_at            timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, thread_id, checkpoint_ns, checkpoint_id)
);
SELECT icop_enable_tenant_rls('graph_checkpoints');

-- Writes of the tasks of a step that finished before the step did (one writer done, another not).
CREATE TABLE graph_checkpoint_writes (
  tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  thread_id      text NOT NULL,
  checkpoint_ns  text NOT NULL DEFAULT '',
  checkpoint_id  text NOT NULL,
  task_id        text NOT NULL,
  idx            integer NOT NULL,
  channel        text NOT NULL,
  value_type     text NOT NULL,
  value          bytea NOT NULL,
  task_path      text NOT NULL DEFAULT '',
  PRIMARY KEY (tenant_id, thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
);
SELECT icop_enable_tenant_rls('graph_checkpoint_writes');
