"""A tenant's monthly budget: what its usage cost this month against what it allows."""
