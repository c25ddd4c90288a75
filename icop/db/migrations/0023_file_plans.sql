-- Plans uploaded as files run like sheets: a CSV or an XLSX workbook (source_kind), stored once in the
-- object store (plan_object_key, formerly csv_object_key). The file itself never changes; what a run writes
-- back into it (status, result, the status note, the Subtopics tab) is kept per cell in plan_cells, and the
-- API serves the file with those cells filled in. The cells belong to one file of one pipeline: a pipeline
-- given a new file starts with a clean slate.
ALTER TABLE content_pipelines RENAME COLUMN csv_object_key TO plan_object_key;
ALTER TABLE content_pipelines DROP CONSTRAINT content_pipelines_source_kind_check;
ALTER TABLE content_pipelines DROP CONSTRAINT content_pipelines_check;
ALTER TABLE content_pipelines ADD CONSTRAINT content_pipelines_source_kind_check
  CHECK (source_kind IN ('sheet', 'csv', 'xlsx'));
ALTER TABLE content_pipelines ADD CONSTRAINT content_pipelines_source_check
  CHECK ((source_kind = 'sheet' AND sheet_id IS NOT NULL)
         OR (source_kind IN ('csv', 'xlsx') AND plan_object_key IS NOT NULL));

CREATE TABLE plan_cells (
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  pipeline_id      uuid NOT NULL REFERENCES content_pipelines(id) ON DELETE CASCADE,
  plan_object_key  text NOT NULL,
  tab              text NOT NULL CHECK (length(tab) BETWEEN 1 AND 100),
  row_number       integer NOT NULL CHECK (row_number BETWEEN 1 AND 1000000),
  col              integer NOT NULL CHECK (col BETWEEN 0 AND 25),
  value            text NOT NULL CHECK (length(value) <= 50000),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (pipeline_id, plan_object_key, tab, row_number, col)
);
CREATE INDEX plan_cells_tenant_idx ON plan_cells (tenant_id);
SELECT icop_enable_tenant_rls('plan_cells');

-- Cells of a row that the user edited after the run read them: the run left them as the user wrote them
-- and says so on the row (A1 ranges, e.g. 'ContentPlan!D7').
ALTER TABLE run_rows ADD COLUMN kept_cells text[] NOT NULL DEFAULT '{}';
