-- A tenant's monthly spending budget (USD; NULL: none). Usage is priced by icop.costs; at 80 % of the
-- budget the tenant is warned (event budget.warning), at 100 % new articles wait (event budget.exhausted)
-- until the budget is raised or the month ends. Each notice is sent once per tenant, month and level.
ALTER TABLE tenants ADD COLUMN monthly_budget_usd numeric(12, 2) CHECK (monthly_budget_usd >= 0);

CREATE TABLE budget_notices (
  tenant_id  uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  month      date NOT NULL,
  level      text NOT NULL CHECK (level IN ('warning', 'exhausted')),
  budget_usd numeric(12, 2) NOT NULL,
  spent_usd  numeric(14, 6) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, month, level, budget_usd)
);
SELECT icop_enable_tenant_rls('budget_notices');
