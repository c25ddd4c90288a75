"""Pipeline runs: start (manual or back-fill), status with progress counts, cancel."""
