"""The `analytics-gateway` command: serve (one or more worker processes), migrate, bootstrap, seed, export-schema."""
