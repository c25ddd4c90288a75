"""Content pipelines: where the plan comes from, when it runs, how articles are written and where they go."""
