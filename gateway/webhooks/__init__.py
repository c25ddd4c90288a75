"""Webhook endpoints, their deliveries and attempts (issue 12)."""
