"""Engagement analytics: posts' collected metrics, their series, summaries, the tenant's thresholds."""
