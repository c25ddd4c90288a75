"""Per-tenant request rate limits, counted in PostgreSQL so every gateway process shares them."""
