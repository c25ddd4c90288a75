"""API keys for API consumers: shown once, stored hashed, found by prefix, revocable."""
