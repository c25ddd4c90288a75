"""The live event stream (issue 12)."""
