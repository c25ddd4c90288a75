"""Runs of a pipeline: who may start one, and when (one set of rules for the API, schedules and CLI)."""
