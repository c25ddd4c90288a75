"""Activities: classes constructed with their dependencies; each method is one activity (all I/O)."""
