"""The tenant's plan usage this month: articles, active runs, pipelines, accounts and X spend."""
