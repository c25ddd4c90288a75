"""Engagement pulled back from the platforms: each published post's metrics collected on a cadence that
decays with its age, inside every platform's limits, stored as a time series (``post_metrics``)."""
