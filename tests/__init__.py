"""The test suite: against a real embedded PostgreSQL, real HTTP on loopback and real clients."""
